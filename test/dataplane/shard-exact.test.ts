// POST /v1/query with exact: true against a real `embedops shard` process: every live vector scored,
// no graph walk. The shard runs a deliberately poor graph (m 4, efSearch 10) so that its ANN answers
// differ from the truth for some queries and the test can tell the two paths apart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBinaryPoints, float32ToBytes } from "../../src/shard/wire.js";
import { call, rng, type ShardProcess, startShardProcess } from "./shard-process.js";

const dim = 48;
const n = 3000;
const k = 10;
const fp = "e3ac7000";
const r = rng(2026);
const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
/** Uniform random directions: the hardest case for a graph walk, so a small beam misses neighbours. */
const vectors = Array.from({ length: n }, () => Array.from({ length: dim }, gauss));
const queries = Array.from({ length: 40 }, () => Array.from({ length: dim }, gauss));
const parity = (i: number) => (i % 2 === 0 ? "even" : "odd");
const deleted = new Set(Array.from({ length: 30 }, (_, j) => `p-${j * 97}`));

let dir: string;
let shard: ShardProcess;

interface Hit {
  id: string;
  score: number;
}

function unit(v: readonly number[]): number[] {
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / norm);
}
const units = vectors.map(unit);

/** Brute force in float64: cosine similarity against every point the filter admits, best k. */
function bruteForce(q: readonly number[], admit: (i: number) => boolean): Hit[] {
  const uq = unit(q);
  const all: Hit[] = [];
  units.forEach((u, i) => {
    if (!admit(i)) return;
    let dot = 0;
    for (let d = 0; d < dim; d++) dot += (u[d] as number) * (uq[d] as number);
    all.push({ id: `p-${i}`, score: dot });
  });
  return all.sort((a, b) => b.score - a.score).slice(0, k);
}

const live = (i: number) => !deleted.has(`p-${i}`);

async function query(body: Record<string, unknown>): Promise<Hit[]> {
  const a = await call(shard.url, "POST", "/v1/query", { k, includeMetadata: false, ...body });
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return a.body.results as Hit[];
}

function expectSameHits(got: Hit[], want: Hit[]): void {
  expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
  got.forEach((h, i) => {
    expect(Math.abs(h.score - (want[i] as Hit).score)).toBeLessThan(1e-5);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "embedops-shard-exact-"));
  shard = await startShardProcess({
    dataDir: dir,
    dimension: dim,
    fingerprint: fp,
    extra: ["--m", "4", "--ef-construction", "20", "--ef-search", "10"],
  });
  await shard.waitReady();
  for (let start = 0; start < n; start += 1000) {
    const batch = vectors.slice(start, start + 1000).map((v, j) => ({
      id: `p-${start + j}`,
      vector: v,
      metadata: { parity: parity(start + j) },
    }));
    const a = await call(shard.url, "POST", "/v1/points", encodeBinaryPoints(batch), {
      "content-type": "application/x-embedops-points",
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
  }
  const d = await call(shard.url, "POST", "/v1/points/delete", { ids: [...deleted] });
  expect(d.body.deleted).toBe(deleted.size);
}, 120_000);

afterAll(async () => {
  await shard?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("shard exact query: responses", () => {
  it("when exact is true, then the top 10 of 3,000 points equals a brute force computed here, for every query", async () => {
    for (const q of queries) expectSameHits(await query({ vector: q, exact: true }), bruteForce(q, live));
  });

  it("when the graph walk has a tiny beam, then its top 10 differs from the exact one for some queries", async () => {
    let differ = 0;
    let overlap = 0;
    for (const q of queries) {
      const ann = (await query({ vector: q, ef: 1 })).map((h) => h.id);
      const exact = bruteForce(q, live).map((h) => h.id);
      if (ann.join() !== exact.join()) differ++;
      overlap += ann.filter((id) => exact.includes(id)).length;
    }
    console.log(
      `ANN (m 4, ef 10) vs exact: ${differ}/${queries.length} queries differ, recall@10 ${(overlap / (queries.length * k)).toFixed(3)}`,
    );
    expect(differ).toBeGreaterThan(0);
  });

  it("when exact is given a filter, then only the admitted points are scored, all of them", async () => {
    // 1,500 even points: far above the size a filter is answered exactly on its own (256).
    for (const q of queries.slice(0, 10)) {
      const got = await query({ vector: q, exact: true, filter: { parity: "even" } });
      expectSameHits(
        got,
        bruteForce(q, (i) => live(i) && i % 2 === 0),
      );
    }
  });

  it("when the query comes as raw float32 with exact=true in the query string, then it answers as the JSON form", async () => {
    for (const q of queries.slice(0, 10)) {
      const a = await call(
        shard.url,
        "POST",
        `/v1/query?k=${k}&includeMetadata=false&exact=true`,
        float32ToBytes(Float32Array.from(q)),
        { "content-type": "application/octet-stream" },
      );
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expectSameHits(a.body.results as Hit[], bruteForce(q, live));
    }
  });

  it("when a deleted point's own vector is the query, then exact never returns it", async () => {
    for (const id of [...deleted].slice(0, 5)) {
      const q = vectors[Number(id.slice(2))] as number[];
      const got = await query({ vector: q, exact: true, k: 1000 });
      expect(got).toHaveLength(1000);
      expect(got.some((h) => deleted.has(h.id))).toBe(false);
      expectSameHits(got.slice(0, k), bruteForce(q, live));
    }
  });

  it("when exact is not a boolean, then a 400 names the field", async () => {
    const a = await call(shard.url, "POST", "/v1/query", { vector: queries[0], exact: "yes" });
    expect([a.status, a.body.field]).toEqual([400, "exact"]);
  });
});

describe("shard exact query: metrics", () => {
  it("when exact queries were served, then the query-duration histogram counts them under path exact_requested", async () => {
    const text = await (await fetch(`${shard.url}/metrics`)).text();
    const m = /embedops_shard_query_duration_seconds_count\{[^}]*path="exact_requested"[^}]*\} (\d+)/.exec(
      text,
    );
    expect(m, text.slice(0, 2000)).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(queries.length + 20);
  });
});
