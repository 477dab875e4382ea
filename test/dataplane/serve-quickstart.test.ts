// The quickstart a newcomer runs: `embedops serve -f examples/quickstart.yaml`, then
// `embedops ingest examples/docs.jsonl` and `embedops query "..."`, all as real processes.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveModel, MODEL_DIR, ROOT } from "./router-harness.js";

const CLI = join(ROOT, "bin", "embedops.mjs");

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("embedops serve on the quickstart", () => {
  let dataDir: string;
  let serve: ChildProcess;
  let output = "";
  let exited: Promise<number | null>;

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    dataDir = mkdtempSync(join(tmpdir(), "embedops-serve-"));
    serve = spawn(process.execPath, [CLI, "serve", "-f", "examples/quickstart.yaml", "--data-dir", dataDir], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    exited = new Promise((resolve) => serve.once("exit", (code) => resolve(code)));
    serve.stdout!.on("data", (d: Buffer) => {
      output += d.toString();
    });
    serve.stderr!.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const deadline = Date.now() + 300_000;
    while (!output.includes("is ready")) {
      if (serve.exitCode !== null) throw new Error(`embedops serve exited ${serve.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`embedops serve not ready after 300 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 330_000);

  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      serve.kill("SIGKILL");
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("when serve is ready, then it prints the model's fingerprint and the index's router URL", () => {
    expect(output).toMatch(/model\s+minilm\s+http:\/\/127\.0\.0\.1:\d+\s+fingerprint [0-9a-f]{12}/);
    expect(output).toMatch(
      /index\s+docs\s+http:\/\/127\.0\.0\.1:\d+\s+generation g-[0-9a-f]{12}, 2 shard\(s\)/,
    );
    expect(existsSync(join(dataDir, "serve.json"))).toBe(true);
  });

  it("when the example documents are ingested, then all 1,979 are acknowledged", () => {
    const r = cli(["ingest", "examples/docs.jsonl", "--data-dir", dataDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ingested 1979 documents/);
    expect(r.stderr).toContain("1,979/1,979 100%");
  }, 300_000);

  it("when a question is asked in other words, then the table's first row is the matching definition", () => {
    const r = cli([
      "query",
      "an illness of children who lack vitamin D and sunlight",
      "--k",
      "3",
      "--data-dir",
      dataDir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split("\n");
    expect(rows[0]).toMatch(/^#\s+score\s+id\s+text/);
    expect(rows[2]).toContain("wn-noun-14201311");
    expect(rows[2]).toContain("rickets");
  });

  it("when a file has an invalid resource, then serve refuses it naming the field and exits 2", () => {
    const bad = join(dataDir, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: docs}\nspec: {modelRef: {name: minilm}, shards: 0}\n",
    );
    const r = cli(["serve", "-f", bad, "--data-dir", join(dataDir, "other")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/spec\.shards/);
  });

  it("when serve gets SIGTERM, then it stops every child, removes serve.json and exits 0", async () => {
    const state = JSON.parse((await import("node:fs")).readFileSync(join(dataDir, "serve.json"), "utf8")) as {
      indexes: { docs: { router: string } };
    };
    serve.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(existsSync(join(dataDir, "serve.json"))).toBe(false);
    await expect(fetch(`${state.indexes.docs.router}/healthz`)).rejects.toThrow();
  }, 60_000);
});
