// The spec is the truth for the embedding space: real `embedops encoder` processes on the real MiniLM
// directory, given the spec's settings as flags the way the operator and `embedops serve` pass them.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddingModelSpec } from "../../src/api/v1alpha1/index.js";
import { encoderSpaceArgs } from "../../src/core/role-args.js";
import { computeFingerprint, MODEL_CONFIG_FILE, parseModelConfig } from "../../src/encoder/model-dir.js";
import { MODEL_DIR, postJson, ROOT, requireModel, startEncoderProcess } from "./encoder-server-harness.js";
import { killServe, spawnServe } from "./serve-process.js";

interface Info {
  fingerprint: string;
  max_input_length: number;
  pooling: string;
}

const CONFIG_FILE = join(MODEL_DIR, MODEL_CONFIG_FILE);
// Far more than 256 word pieces.
const LONG = "Operators reconcile the declared state of a resource with what they observe. ".repeat(60);

/** Runs the encoder with `args` to its exit; it must not get as far as listening. */
function runToExit(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "bin", "embedops.mjs"), "encoder", "--model-dir", MODEL_DIR, "--port", "0", ...args],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** /info of an encoder started with `args`, and the usage count of one long input; then it is stopped. */
async function infoWith(args: string[]): Promise<{ info: Info; longTokens: number; strict: unknown }> {
  const enc = await startEncoderProcess(args);
  try {
    const info = (await (await fetch(`${enc.url}/info`)).json()) as Info;
    const long = await postJson(`${enc.url}/v1/embeddings`, { input: LONG });
    const strict = await postJson(`${enc.url}/embed`, { inputs: LONG, truncate: false });
    const usage = (long.json as { usage: { prompt_tokens: number } }).usage;
    return { info, longTokens: usage.prompt_tokens, strict: { status: strict.status, body: strict.json } };
  } finally {
    await enc.stop();
  }
}

describe("the encoder's embedding-space flags on the real MiniLM directory", () => {
  const declared = () => parseModelConfig(readFileSync(CONFIG_FILE, "utf8"), CONFIG_FILE);
  let plain: Awaited<ReturnType<typeof infoWith>>;

  beforeAll(async () => {
    requireModel();
    plain = await infoWith([]);
  });

  it("when --pooling cls contradicts the directory's mean, then it exits 2 before listening with one error line naming both and the file", async () => {
    const r = await runToExit(["--pooling", "cls"]);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('"listening"');
    const errors = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: string; msg: string; err?: { message: string } })
      .filter((l) => l.level === "error");
    expect(errors).toHaveLength(1);
    const message = errors[0]?.err?.message ?? "";
    expect(message).toContain(`spec.pooling is "cls" but ${CONFIG_FILE} declares "mean"`);
    expect(message).toContain('set spec.pooling to "mean"');
  });

  it("when several flags contradict, then the one error line lists each of them", async () => {
    const r = await runToExit([
      "--dimension",
      "768",
      "--max-sequence-length",
      "512",
      "--query-prefix=query: ",
    ]);
    expect(r.code).toBe(2);
    const line = r.stderr.split("\n").find((l) => l.includes('"level":"error"')) ?? "";
    const message = (JSON.parse(line) as { err: { message: string } }).err.message;
    expect(message).toContain("spec.dimension is 768");
    expect(message).toContain("the export supports at most 256 tokens");
    expect(message).toContain('spec.queryPrefix is "query: "');
  });

  it("when --max-sequence-length 128 is below the declared 256, then it serves, truncates at 128 and has another fingerprint", async () => {
    const short = await infoWith(["--max-sequence-length", "128"]);
    expect(plain.info.max_input_length).toBe(256);
    expect(plain.longTokens).toBe(256);
    expect(short.info.max_input_length).toBe(128);
    expect(short.longTokens).toBe(128);
    expect(short.strict).toMatchObject({ status: 413 });
    expect(JSON.stringify(short.strict)).toContain("maximum of 128");
    expect(short.info.fingerprint).not.toBe(plain.info.fingerprint);
    // The fingerprint's definition, over the effective config.
    const onnx = join(MODEL_DIR, "model.onnx");
    expect(short.info.fingerprint).toBe(
      await computeFingerprint(onnx, { ...declared(), maxSequenceLength: 128 }),
    );
    expect(plain.info.fingerprint).toBe(await computeFingerprint(onnx, declared()));
  });

  it("when every flag equals the declaration (as the shells pass a matching spec), then the fingerprint is the one without flags", async () => {
    const d = declared();
    const spec = EmbeddingModelSpec.parse({
      source: { path: MODEL_DIR },
      dimension: d.dimension,
      pooling: d.pooling,
      normalize: d.normalize,
      maxSequenceLength: d.maxSequenceLength,
      queryPrefix: d.queryPrefix,
      documentPrefix: d.documentPrefix,
    });
    const same = await infoWith(encoderSpaceArgs(spec));
    expect(same.info.fingerprint).toBe(plain.info.fingerprint);
    expect(same.info.max_input_length).toBe(256);
  });
});

describe("embedops serve with a spec that contradicts its model directory", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "embedops-space-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("when the spec says pooling cls for the mean MiniLM, then serve stops with the encoder's own message and exit code", async () => {
    const file = join(dir, "models.yaml");
    writeFileSync(
      file,
      `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata: { name: minilm }
spec:
  source: { path: ${MODEL_DIR} }
  dimension: 384
  pooling: cls
`,
    );
    const serve = spawnServe({ dataDir: join(dir, "data"), file });
    try {
      // A serve that keeps restarting the encoder instead would never exit: bounded, and killed below.
      const code = await Promise.race([
        serve.exited,
        new Promise((resolve) => setTimeout(() => resolve("still running after 45 s"), 45_000)),
      ]);
      expect(code).toBe(1);
      const failed = serve
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { msg: string; err?: unknown })
        .find((l) => l.msg === "serve failed to start");
      expect(typeof failed?.err).toBe("string");
      const err = String(failed?.err);
      expect(err).toContain("(code 2, signal null)");
      expect(err).toContain(`spec.pooling is "cls" but ${CONFIG_FILE} declares "mean"`);
    } finally {
      await killServe(serve);
    }
  }, 90_000);
});
