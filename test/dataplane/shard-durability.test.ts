// Durability of a real shard process: restart from a checkpoint, rebuild from a corrupt one,
// refuse a data dir of another generation, and lose no acknowledged write across kill -9.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeBinaryPoints } from "../../src/shard/wire.js";
import {
  allIds,
  call,
  clustered,
  runShardToExit,
  type ShardProcess,
  startShardProcess,
} from "./shard-process.js";

const dim = 16;
let dir: string;
const running: ShardProcess[] = [];

async function start(extra: string[] = ["--checkpoint-interval-seconds", "0"]): Promise<ShardProcess> {
  const s = await startShardProcess({ dataDir: dir, dimension: dim, extra });
  running.push(s);
  await s.waitReady();
  return s;
}

async function upsert(url: string, from: number, n: number, vectors: number[][]) {
  const points = Array.from({ length: n }, (_, j) => ({
    id: `p-${from + j}`,
    vector: vectors[(from + j) % vectors.length] as number[],
    metadata: { n: from + j },
  }));
  const r = await call(url, "POST", "/v1/points", { points });
  expect(r.status).toBe(200);
}

function loaded(s: ShardProcess): Record<string, unknown> {
  const l = s.logs.find((x) => x.msg === "loaded");
  if (!l) throw new Error("no 'loaded' log line");
  return l;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "embedops-shard-dur-"));
});
afterEach(async () => {
  for (const s of running.splice(0))
    if (s.proc.exitCode === null && s.proc.signalCode === null) await s.kill9();
  rmSync(dir, { recursive: true, force: true });
});

const vectors = clustered(2000, dim, 11);

describe("restart", () => {
  it("when a shard restarts after a clean stop and then after kill -9, then it loads the checkpoint and replays only newer rows", async () => {
    const a = await start();
    await upsert(a.url, 0, 500, vectors);
    expect(await a.stop()).toBe(0);
    expect(
      a.logs.some((x) => x.msg === "checkpoint written" && x.reason === "shutdown" && x.seq === 500),
    ).toBe(true);

    const b = await start();
    expect(loaded(b)).toMatchObject({ source: "checkpoint", checkpointSeq: 500, replayedRows: 0 });
    await upsert(b.url, 500, 100, vectors);
    await call(b.url, "POST", "/v1/points/delete", { ids: ["p-1", "p-2", "p-3", "p-4", "p-5"] });
    await b.kill9();

    const c = await start();
    expect(loaded(c)).toMatchObject({
      source: "checkpoint",
      checkpointSeq: 500,
      replayedUpserts: 100,
      replayedDeletes: 5,
    });
    const stats = await call(c.url, "GET", "/v1/stats");
    expect(stats.body).toMatchObject({ count: 595, replayedRows: 105, lastSeq: 605 });
    expect((await call(c.url, "GET", "/v1/points/p-3")).status).toBe(404);
    const q = await call(c.url, "POST", "/v1/query", { vector: vectors[550], k: 1 });
    expect((q.body.results as { id: string }[])[0]?.id).toBe("p-550");
    const q2 = await call(c.url, "POST", "/v1/query", { vector: vectors[3], k: 10 });
    expect((q2.body.results as { id: string }[]).map((x) => x.id)).not.toContain("p-3");
    const metrics = await fetch(`${c.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/embedops_shard_replayed_rows_total\{[^}]*\} 105/);
  });

  it("when the checkpoint file is corrupt, then the shard logs a warning, rebuilds from the database and serves everything", async () => {
    const a = await start();
    await upsert(a.url, 0, 300, vectors);
    expect(await a.stop()).toBe(0);
    const cpDir = join(dir, "checkpoints");
    const graph = readdirSync(cpDir).find((n) => n.endsWith(".hnsw"));
    if (!graph) throw new Error("no checkpoint written");
    const bytes = readFileSync(join(cpDir, graph));
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = (bytes[mid] as number) ^ 0xff;
    writeFileSync(join(cpDir, graph), bytes);

    const b = await start();
    const warnings = b.logs.filter((x) => x.level === "warn");
    expect(
      warnings.some((x) => x.msg === "checkpoint unusable, ignoring it" && /sha256/.test(String(x.reason))),
    ).toBe(true);
    expect(warnings.some((x) => /rebuilding the graph from the database/.test(String(x.msg)))).toBe(true);
    expect(loaded(b)).toMatchObject({ source: "rebuild", replayedRows: 300 });
    expect((await call(b.url, "GET", "/v1/stats")).body.count).toBe(300);
    const q = await call(b.url, "POST", "/v1/query", { vector: vectors[123], k: 1 });
    expect((q.body.results as { id: string }[])[0]?.id).toBe("p-123");
  });

  it("when the sidecar is missing, then the graph file is not trusted and the shard rebuilds", async () => {
    const a = await start();
    await upsert(a.url, 0, 50, vectors);
    expect(await a.stop()).toBe(0);
    const cpDir = join(dir, "checkpoints");
    for (const n of readdirSync(cpDir)) if (n.endsWith(".json")) rmSync(join(cpDir, n));
    const b = await start();
    expect(loaded(b)).toMatchObject({ source: "rebuild", replayedRows: 50 });
  });
});

describe("identity", () => {
  const cases = [
    { flag: "--dimension", value: "32", stored: "16" },
    { flag: "--metric", value: "l2", stored: "cosine" },
    { flag: "--fingerprint", value: "beef", stored: "f00d" },
  ];
  for (const c of cases) {
    it(`when a data dir is restarted with a different ${c.flag}, then the shard exits 2 naming both values and the fix`, async () => {
      const a = await start();
      expect(await a.stop()).toBe(0);
      const args = { dataDir: dir, dimension: dim, metric: "cosine", fingerprint: "f00d" };
      const key = c.flag.slice(2) as "dimension" | "metric" | "fingerprint";
      const r = await runShardToExit({ ...args, [key]: key === "dimension" ? Number(c.value) : c.value });
      expect(r.code).toBe(2);
      expect(r.output).toContain(`${key}=${c.stored}`);
      expect(r.output).toContain(`${c.flag} ${c.value}`);
      expect(r.output).toContain("--data-dir");
    });
  }
});

describe("kill -9", () => {
  it("when a shard is killed with SIGKILL 20 times during continuous ingest, then every acknowledged id is present afterwards", async () => {
    const acked = new Set<string>();
    let next = 0;
    // A short checkpoint interval so kills also land during and between checkpoints.
    const extra = ["--checkpoint-interval-seconds", "1", "--sync", "normal"];
    for (let cycle = 0; cycle < 20; cycle++) {
      const s = await start(extra);
      // Everything acknowledged in earlier cycles must be here before we write more.
      const present = await allIds(s.url);
      const missing = [...acked].filter((id) => !present.has(id));
      expect(missing, `cycle ${cycle}: acknowledged ids lost`).toEqual([]);
      let stop = false;
      const ingest = (async () => {
        while (!stop) {
          const batch = Array.from({ length: 64 }, () => {
            const i = next++;
            return { id: `k-${i}`, vector: vectors[i % vectors.length] as number[], metadata: { i } };
          });
          try {
            const res = await fetch(`${s.url}/v1/points`, {
              method: "POST",
              headers: { "content-type": "application/x-embedops-points" },
              body: encodeBinaryPoints(batch),
            });
            if (res.status === 200) for (const p of batch) acked.add(p.id);
          } catch {
            return; // the process is gone: this batch was never acknowledged
          }
        }
      })();
      // Let a varying amount of ingest happen, then kill without warning.
      await new Promise((r) => setTimeout(r, 150 + ((cycle * 97) % 400)));
      await s.kill9();
      stop = true;
      await ingest;
    }
    const last = await start(extra);
    const present = await allIds(last.url);
    expect([...acked].filter((id) => !present.has(id))).toEqual([]);
    expect(acked.size).toBeGreaterThan(20 * 64);
    // Not only in the database: the graph answers for them too (self-query finds the point first).
    const sample = [...acked].filter((_, i) => i % Math.ceil(acked.size / 40) === 0);
    for (const id of sample) {
      const i = Number(id.slice(2));
      const r = await call(last.url, "POST", "/v1/query", {
        vector: vectors[i % vectors.length],
        k: 50,
        ef: 400,
      });
      const ids = (r.body.results as { id: string }[]).map((x) => x.id);
      expect(ids).toContain(id);
    }
  }, 300_000);
});
