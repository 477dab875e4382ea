// The quickstart a newcomer runs: `embedops serve -f examples/quickstart.yaml`, then
// `embedops ingest examples/docs.jsonl` and `embedops query "..."`, all as real processes.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServeState } from "../../src/local/serve-state.js";
import { haveModel, MODEL_DIR } from "./router-harness.js";
import { cli, killServe, type ServeProcess, spawnServe, waitServeReady } from "./serve-process.js";

describe("embedops serve on the quickstart", () => {
  let dataDir: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    dataDir = mkdtempSync(join(tmpdir(), "embedops-serve-"));
    serve = spawnServe({ dataDir });
    await waitServeReady(serve);
  }, 330_000);

  afterAll(async () => {
    if (serve) await killServe(serve);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("when serve is ready, then it prints the model's fingerprint and the index's router URL", () => {
    const output = serve.output();
    expect(output).toMatch(/model\s+minilm\s+http:\/\/127\.0\.0\.1:\d+\s+fingerprint [0-9a-f]{12}/);
    expect(output).toMatch(
      /index\s+docs\s+http:\/\/127\.0\.0\.1:\d+\s+generation g-[0-9a-f]{12}, 2 shard\(s\)/,
    );
    expect(existsSync(join(dataDir, "serve.json"))).toBe(true);
  });

  it("when serve is ready, then serve.json names its own /metrics, which exports the rollout counter", async () => {
    const state = readServeState(dataDir);
    expect(state?.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${state?.metrics}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("# TYPE embedops_serve_rollouts_total counter");
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
    serve.proc.kill("SIGTERM");
    expect(await serve.exited).toBe(0);
    expect(existsSync(join(dataDir, "serve.json"))).toBe(false);
    await expect(fetch(`${state.indexes.docs.router}/healthz`)).rejects.toThrow();
  }, 60_000);
});
