// Compaction through the in-process startShard(): deleted elements leave the graph, writes made
// while it rebuilds are kept, and the compacted graph is what the next start loads.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningShard, startShard } from "../../src/shard/server.js";
import { createLogger } from "../../src/util/log.js";
import { call, clustered } from "./shard-process.js";

const dim = 16;
const vectors = clustered(400, dim, 5);
let dir: string;
const open: RunningShard[] = [];

async function start(): Promise<RunningShard> {
  const s = await startShard({
    dataDir: dir,
    shardId: "c",
    dimension: dim,
    metric: "l2",
    fingerprint: "c0ffee",
    m: 16,
    efConstruction: 100,
    efSearch: 64,
    checkpointIntervalSeconds: 0,
    sync: "normal",
    compaction: { minDeleted: 10, maxDeletedFraction: 0.2 },
    log: createLogger({ test: "compaction" }),
  });
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("compaction", () => {
  it("when a quarter of the points are deleted, then maintenance rebuilds the graph without them and a restart loads that graph", async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-shard-compact-"));
    const s = await start();
    const points = vectors.map((v, i) => ({ id: `c-${i}`, vector: v }));
    expect((await call(s.url, "POST", "/v1/points", { points })).status).toBe(200);
    const gone = points.slice(0, 100).map((p) => p.id);
    await call(s.url, "POST", "/v1/points/delete", { ids: gone });
    expect((await call(s.url, "GET", "/v1/stats")).body).toMatchObject({ count: 300, deleted: 100 });

    // A write racing the rebuild must survive the swap.
    const maintenance = s.shard.maintain();
    await call(s.url, "POST", "/v1/points", { points: [{ id: "late", vector: vectors[0] }] });
    await maintenance;

    const stats = (await call(s.url, "GET", "/v1/stats")).body;
    expect(stats).toMatchObject({ count: 301, deleted: 0 });
    const q = await call(s.url, "POST", "/v1/query", { vector: vectors[0], k: 1 });
    expect((q.body.results as { id: string }[])[0]?.id).toBe("late");
    const metrics = await fetch(`${s.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/embedops_shard_compactions_total\{[^}]*\} 1/);

    await s.close();
    const again = await start();
    const after = (await call(again.url, "GET", "/v1/stats")).body;
    expect(after).toMatchObject({ count: 301, deleted: 0, replayedRows: 0 });
  });
});
