// spec.snapshot under `embedops serve`: the schedule runs, retention keeps the newest `retain`
// complete snapshots, and the newest restores to what was indexed. Real encoder, shards, routers. The
// schedule is "* * * * *"; EMBEDOPS_TEST_SNAPSHOT_EVERY_SECONDS replaces its period so the test does
// not wait minutes per run (the cron decision itself is tested in test/unit/snapshot/schedule.test.ts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_SNAPSHOT_EVERY_SECONDS_ENV } from "../../src/local/snapshot-scheduler.js";
import { listSnapshots } from "../../src/snapshot/catalog.js";
import { snapshotRoot } from "../../src/snapshot/layout.js";
import { PathStore } from "../../src/snapshot/path-store.js";
import { restoreSnapshot } from "../../src/snapshot/restore.js";
import { createLogger } from "../../src/util/log.js";
import { haveModel, MODEL_DIR, ROOT } from "./router-harness.js";
import { cli, killServe, type ServeProcess, spawnServe, waitServeReady } from "./serve-process.js";

const DOCS = 300;

describe("scheduled snapshots under embedops serve", () => {
  let work: string;
  let dataDir: string;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    work = mkdtempSync(join(tmpdir(), "embedops-snapshot-schedule-"));
    dataDir = join(work, "data");
    const docs = readFileSync(join(ROOT, "examples", "docs.jsonl"), "utf8")
      .split("\n")
      .slice(0, DOCS);
    writeFileSync(join(work, "docs.jsonl"), `${docs.join("\n")}\n`);
    const file = join(work, "serve.yaml");
    writeFileSync(
      file,
      readFileSync(join(ROOT, "examples", "quickstart.yaml"), "utf8") +
        "  snapshot:\n" +
        '    schedule: "* * * * *"\n' +
        "    retain: 2\n" +
        "    store: {pvc: {claimName: snaps}}\n",
    );
    serve = spawnServe({ dataDir, file, env: { [TEST_SNAPSHOT_EVERY_SECONDS_ENV]: "8" } });
    await waitServeReady(serve);
  }, 330_000);

  afterAll(async () => {
    if (serve) await killServe(serve);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("when the schedule ran at least 3 times after an ingest, then exactly 2 complete snapshots remain and the newest restores every document", async () => {
    const ingest = cli(["ingest", join(work, "docs.jsonl"), "--data-dir", dataDir]);
    expect(ingest.status, ingest.stderr).toBe(0);
    // Runs that finished after the ingest: the human line names each snapshot once.
    const runsAfter = serve!.output().length;
    const runs = () => [
      ...serve!
        .output()
        .slice(runsAfter)
        .matchAll(/vi\/docs {2}snapshot (docs-\d{8}-\d{6}): /g),
    ];
    const deadline = Date.now() + 240_000;
    while (runs().length < 3) {
      if (Date.now() > deadline)
        throw new Error(`fewer than 3 scheduled runs after the ingest:\n${serve!.output()}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(serve!.output()).not.toMatch(/snapshot docs-\d{8}-\d{6} failed/);
    const metrics = JSON.parse(readFileSync(join(dataDir, "serve.json"), "utf8")) as { metrics: string };
    const text = await (await fetch(`${metrics.metrics}/metrics`)).text();
    const count = /embedops_serve_snapshots_total\{index="docs",result="Succeeded"\} (\d+)/.exec(text)?.[1];
    expect(Number(count)).toBeGreaterThanOrEqual(3);

    // SIGTERM lets a run in progress finish with its retention pass, so the store is at rest.
    serve!.proc.kill("SIGTERM");
    expect(await serve!.exited).toBe(0);
    const all = [...serve!.output().matchAll(/vi\/docs {2}snapshot (docs-\d{8}-\d{6}): /g)].map((m) => m[1]!);
    const store = new PathStore(join(dataDir, "snapshots", "snaps"));
    const entries = await listSnapshots(store, "", "docs");
    expect(entries.map((e) => [e.snapshot, e.complete])).toEqual(all.slice(-2).map((n) => [n, true]));
    const newest = all.at(-1)!;

    const restored = await restoreSnapshot({
      store,
      root: snapshotRoot("", "docs", newest),
      expectedFingerprint: entries.at(-1)!.manifest!.fingerprint,
      shards: 2,
      replicas: 1,
      targetDir: (s, r) => join(work, "restored", `shard-${s}`, `replica-${r}`),
      stagingDir: join(work, "restore-staging"),
      log: createLogger({ role: "test" }),
    });
    expect(restored.documents).toBe(DOCS);
  }, 400_000);
});
