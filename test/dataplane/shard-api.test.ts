// The shard's HTTP API against a real `embedops shard` process: real SQLite, real hnswlib.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBinaryPoints, float32FromBytes, float32ToBytes } from "../../src/shard/wire.js";
import { allIds, call, clustered, type ShardProcess, startShardProcess } from "./shard-process.js";

const dim = 32;
const fp = "a1b2c3d4";
let dir: string;
let shard: ShardProcess;
let url: string;
const vectors = clustered(5000, dim, 7);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "embedops-shard-api-"));
  shard = await startShardProcess({ dataDir: dir, dimension: dim, fingerprint: fp });
  await shard.waitReady();
  url = shard.url;
  // 5000 points: bucket alternates every 16 ids, across all clusters (2500 each: far beyond the exact-path limit, so the graph walk filters),
  // rare = true on 20 spread-out points (answered exactly).
  for (let start = 0; start < vectors.length; start += 500) {
    const batch = vectors.slice(start, start + 500).map((v, j) => {
      const i = start + j;
      return {
        id: `doc-${i}`,
        vector: v,
        metadata: { bucket: Math.floor(i / 16) % 2, rare: i % 250 === 3, lang: i % 3 === 0 ? "de" : "en" },
        text: `text of ${i}`,
      };
    });
    // Half the batches in the binary format, half as JSON: both paths land in the same store.
    const r =
      start % 1000 === 0
        ? await call(url, "POST", "/v1/points", encodeBinaryPoints(batch), {
            "content-type": "application/x-embedops-points",
            "x-embedops-model-fingerprint": fp,
          })
        : await call(url, "POST", "/v1/points", { points: batch });
    expect(r.status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await shard?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("shard API: responses", () => {
  it("when a stored vector is the query, then its own id comes back first with similarity ~1", async () => {
    const r = await call(url, "POST", "/v1/query", { vector: vectors[42], k: 5, includeText: true });
    expect(r.status).toBe(200);
    const results = r.body.results as { id: string; score: number; text: string; metadata: unknown }[];
    expect(results).toHaveLength(5);
    expect(results[0]?.id).toBe("doc-42");
    expect(results[0]?.score).toBeCloseTo(1, 4);
    expect(results[0]?.text).toBe("text of 42");
    expect(r.body.scoreKind).toBe("cosine_similarity");
    const scores = results.map((x) => x.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it("when the query is sent as octet-stream with options in the query string, then it matches the JSON answer", async () => {
    const body = float32ToBytes(Float32Array.from(vectors[42] as number[]));
    const r = await call(url, "POST", "/v1/query?k=3&includeMetadata=false", body, {
      "content-type": "application/octet-stream",
    });
    expect(r.status).toBe(200);
    const results = r.body.results as { id: string; metadata?: unknown }[];
    expect(results.map((x) => x.id)[0]).toBe("doc-42");
    expect(results[0]?.metadata).toBeUndefined();
  });

  it("when an octet-stream query carries a filter in the query string, then only matching points come back", async () => {
    const body = float32ToBytes(Float32Array.from(vectors[5] as number[]));
    const filter = encodeURIComponent(JSON.stringify({ lang: "de" }));
    const r = await call(url, "POST", `/v1/query?k=7&filter=${filter}`, body, {
      "content-type": "application/octet-stream",
    });
    expect(r.status).toBe(200);
    const results = r.body.results as { metadata: { lang: string } }[];
    expect(results).toHaveLength(7);
    expect(results.every((x) => x.metadata.lang === "de")).toBe(true);
  });

  it("when a point is fetched, then its vector round-trips as base64 float32 with metadata, text and seq", async () => {
    const r = await call(url, "GET", "/v1/points/doc-7");
    expect(r.status).toBe(200);
    const v = float32FromBytes(Buffer.from(r.body.vector as string, "base64"));
    expect(Array.from(v)).toEqual(Array.from(Float32Array.from(vectors[7] as number[])));
    expect(r.body.metadata).toEqual({ bucket: 0, rare: false, lang: "en" });
    expect(r.body.text).toBe("text of 7");
    expect(typeof r.body.seq).toBe("number");
  });

  it("when stats are read, then they report count, identity, hnsw params, sequences, memory and disk", async () => {
    const r = await call(url, "GET", "/v1/stats");
    expect(r.body).toMatchObject({
      count: 5000,
      dimension: dim,
      metric: "cosine",
      fingerprint: fp,
      hnsw: { m: 16, efConstruction: 200, efSearch: 64 },
      lastSeq: 5000,
    });
    expect((r.body.memory as { estimateBytes: number }).estimateBytes).toBeGreaterThan(5000 * dim * 4);
    expect((r.body.disk as { bytes: number }).bytes).toBeGreaterThan(5000 * dim * 4);
  });

  it("when /v1/scan is paged, then every live document appears once in seq order", async () => {
    const first = await call(url, "GET", "/v1/scan?afterSeq=0&limit=3");
    expect((first.body.items as { id: string }[]).map((x) => x.id)).toEqual(["doc-0", "doc-1", "doc-2"]);
    expect((await allIds(url)).size).toBe(5000);
  });
});

describe("shard API: filters", () => {
  it("when a filter matches 20 of 5000 points, then k=10 results come back and all match", async () => {
    const r = await call(url, "POST", "/v1/query", { vector: vectors[0], k: 10, filter: { rare: true } });
    const results = r.body.results as { metadata: { rare: boolean } }[];
    expect(results).toHaveLength(10);
    expect(results.every((x) => x.metadata.rare === true)).toBe(true);
  });

  it("when a filter matches half the points, then the graph walk filters and k=50 matching results come back", async () => {
    const r = await call(url, "POST", "/v1/query", {
      vector: vectors[1],
      k: 50,
      filter: { bucket: 0 },
    });
    const results = r.body.results as { metadata: { bucket: number; lang: string } }[];
    expect(results).toHaveLength(50);
    expect(results.every((x) => x.metadata.bucket === 0)).toBe(true);
    const metrics = await fetch(`${url}/metrics`).then((x) => x.text());
    expect(metrics).toMatch(
      /embedops_shard_query_duration_seconds_count\{[^}]*path="hnsw_filtered"[^}]*\} [1-9]/,
    );
  });

  it("when an in-filter is used, then results match one of the values", async () => {
    const r = await call(url, "POST", "/v1/query", {
      vector: vectors[3],
      k: 20,
      filter: { lang: { in: ["de"] } },
    });
    const results = r.body.results as { metadata: { lang: string } }[];
    expect(results).toHaveLength(20);
    expect(results.every((x) => x.metadata.lang === "de")).toBe(true);
  });
});

describe("shard API: writes and deletes", () => {
  it("when a point is upserted again, then it is replaced (count unchanged, new metadata visible to filters)", async () => {
    const r = await call(url, "POST", "/v1/points", {
      points: [{ id: "doc-9", vector: vectors[9], metadata: { special: "yes" } }],
    });
    expect(r.status).toBe(200);
    const q = await call(url, "POST", "/v1/query", { vector: vectors[0], k: 5, filter: { special: "yes" } });
    expect((q.body.results as { id: string }[]).map((x) => x.id)).toEqual(["doc-9"]);
    expect((await call(url, "GET", "/v1/stats")).body.count).toBe(5000);
  });

  it("when points are deleted by batch and by id, then they are gone from get, query and stats", async () => {
    const d1 = await call(url, "POST", "/v1/points/delete", { ids: ["doc-100", "doc-101", "never-existed"] });
    expect(d1.body).toMatchObject({ deleted: 2, notFound: 1 });
    const d2 = await call(url, "DELETE", "/v1/points/doc-102");
    expect(d2.status).toBe(200);
    expect((await call(url, "DELETE", "/v1/points/doc-102")).status).toBe(404);
    expect((await call(url, "GET", "/v1/points/doc-100")).status).toBe(404);
    const q = await call(url, "POST", "/v1/query", { vector: vectors[100], k: 10 });
    const ids = (q.body.results as { id: string }[]).map((x) => x.id);
    expect(ids).not.toContain("doc-100");
    expect((await call(url, "GET", "/v1/stats")).body).toMatchObject({ count: 4997, deleted: 3 });
  });
});

describe("shard API: refusals", () => {
  it("when a request declares another model fingerprint, then 409 names both fingerprints", async () => {
    for (const path of ["/v1/points", "/v1/query"]) {
      const r = await call(
        url,
        "POST",
        path,
        { vector: vectors[0] },
        { "x-embedops-model-fingerprint": "deadbeef" },
      );
      expect(r.status).toBe(409);
      expect(r.body.error).toContain("deadbeef");
      expect(r.body.error).toContain(fp);
    }
  });

  it("when an octet-stream query declares another fingerprint or has a bad option, then 409 or 400 naming it", async () => {
    const body = float32ToBytes(Float32Array.from(vectors[0] as number[]));
    const octet = { "content-type": "application/octet-stream" };
    const foreign = await call(url, "POST", "/v1/query?k=3", body, {
      ...octet,
      "x-embedops-model-fingerprint": "deadbeef",
    });
    expect(foreign.status).toBe(409);
    expect(foreign.body.error).toContain("deadbeef");
    expect(foreign.headers.get("x-embedops-model-fingerprint")).toBe(fp);
    for (const [qs, field] of [
      ["k=0", "k"],
      ["k=3&k=4", "k"],
      ["ef=abc", "ef"],
      ["k=3&topK=3", "topK"],
    ] as const) {
      const r = await call(url, "POST", `/v1/query?${qs}`, body, octet);
      expect(r.status, qs).toBe(400);
      expect(r.body.field, qs).toBe(field);
      expect(r.headers.get("x-embedops-model-fingerprint")).toBe(fp);
    }
    const short = await call(url, "POST", "/v1/query?k=3", body.subarray(0, 12), octet);
    expect(short.status).toBe(400);
    expect(short.body.field).toBe("body");
  });

  const bad: { name: string; path: string; body: unknown; field: string }[] = [
    {
      name: "the 4th point has the wrong dimension",
      path: "/v1/points",
      body: { points: [0, 1, 2, 3].map((i) => ({ id: `x${i}`, vector: i === 3 ? [1, 2, 3] : vectors[i] })) },
      field: "points[3].vector",
    },
    {
      name: "a point has an unknown field",
      path: "/v1/points",
      body: { points: [{ id: "x", vector: vectors[0], colour: "red" }] },
      field: "points[0].colour",
    },
    {
      name: "a query has an unknown field",
      path: "/v1/query",
      body: { vector: vectors[0], topK: 3 },
      field: "topK",
    },
    {
      name: "the filter is malformed",
      path: "/v1/query",
      body: { vector: vectors[0], filter: { lang: { like: "e%" } } },
      field: "filter.lang",
    },
    { name: "k is 0", path: "/v1/query", body: { vector: vectors[0], k: 0 }, field: "k" },
    { name: "k is 1001", path: "/v1/query", body: { vector: vectors[0], k: 1001 }, field: "k" },
    { name: "ef is 0", path: "/v1/query", body: { vector: vectors[0], ef: 0 }, field: "ef" },
  ];
  for (const c of bad) {
    it(`when ${c.name}, then 400 names ${c.field} and the shard keeps serving`, async () => {
      const r = await call(url, "POST", c.path, c.body);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe(c.field);
      expect(String(r.body.error)).toContain(c.field);
      expect(r.headers.get("x-embedops-model-fingerprint")).toBe(fp);
    });
  }

  it("when the body is not JSON or has the wrong content type, then 4xx, never 5xx", async () => {
    const notJson = await fetch(`${url}/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{nope",
    });
    expect(notJson.status).toBe(400);
    const wrongType = await fetch(`${url}/v1/query`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "x",
    });
    expect(wrongType.status).toBe(415);
    const unknown = await fetch(`${url}/v2/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-embedops-model-fingerprint")).toBe(fp);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
