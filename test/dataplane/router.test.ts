// The router against real shards (2 shards × 2 replicas), the real encoder and model, all as child
// processes over real HTTP. Tests in this file run in order: later ones kill replicas.
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardForId } from "../../src/router/shard-hash.js";
import { loadWordnetSentences } from "../fixtures/corpus/wordnet.js";
import {
  call,
  errorOf,
  eventually,
  haveModel,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";

const SHARDS = ["s0", "s1"];
const DOCS = loadWordnetSentences(300).map((s, i) => ({
  id: s.id,
  text: s.text,
  metadata: { pos: s.pos, bucket: i % 3 },
}));

describe("router over 2 shards × 2 replicas with the real encoder", () => {
  let dir: string;
  let encoder: Role;
  let fingerprint: string;
  const replicas: Role[][] = [];
  let router: Role;
  let configPath: string;
  let config: Record<string, unknown>;
  const q = (path: string, method = "GET", body?: unknown) => call(`${router.url}${path}`, method, body);

  beforeAll(async () => {
    if (!haveModel())
      throw new Error('no model in models/all-minilm-l6-v2: run "npm run setup:models" first');
    dir = mkdtempSync(join(tmpdir(), "embedops-router-"));
    encoder = await startEncoder();
    await waitReady(encoder.url);
    fingerprint = ((await (await fetch(`${encoder.url}/info`)).json()) as { fingerprint: string })
      .fingerprint;
    for (const [i, name] of SHARDS.entries()) {
      replicas[i] = await Promise.all(
        [0, 1].map((r) => startShard(join(dir, `${name}-r${r}`), fingerprint, 384, `${name}-r${r}`)),
      );
    }
    configPath = join(dir, "router.json");
    config = {
      index: "wordnet",
      generation: "g1",
      fingerprint,
      dimension: 384,
      metric: "cosine",
      encoder: { url: encoder.url },
      shards: SHARDS.map((name, i) => ({ name, replicas: replicas[i]!.map((r) => r.url) })),
      timeoutMs: 3000,
      writeQuorum: "all",
      hedge: { enabled: true, minDelayMs: 2 },
    };
    writeConfig(configPath, config);
    router = await startRouterProcess(configPath);
    await waitReady(router.url);
  });

  afterAll(async () => {
    await Promise.all([router, encoder, ...replicas.flat()].filter(Boolean).map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe("ingest and query", () => {
    it("when documents are ingested, then every shard's replicas all acknowledge their share", async () => {
      const a = await q("/v1/documents", "POST", { documents: DOCS });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body.upserted).toBe(DOCS.length);
      const shards = a.body.shards as Record<
        string,
        { items: number; acknowledged: number; failed: unknown[] }
      >;
      const expected = SHARDS.map((_, i) => DOCS.filter((d) => shardForId(d.id, 2) === i).length);
      expect(SHARDS.map((s) => shards[s]?.items)).toEqual(expected);
      for (const s of SHARDS) expect(shards[s]).toMatchObject({ acknowledged: 2, required: 2, failed: [] });
    });

    it("when a document's exact text is queried, then it is the top hit with the shard the hash names", async () => {
      const doc = DOCS[123]!;
      const a = await q("/v1/query", "POST", { text: doc.text, k: 3, includeText: true });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      const [top] = a.body.results as {
        id: string;
        score: number;
        shard: string;
        text: string;
        metadata: unknown;
      }[];
      expect(top).toMatchObject({
        id: doc.id,
        text: doc.text,
        shard: SHARDS[shardForId(doc.id, 2)],
        metadata: doc.metadata,
      });
      expect(top!.score).toBeGreaterThan(0.99);
      expect(a.body.partial).toBe(false);
      expect(a.body.scoreKind).toBe("cosine_similarity");
      expect(a.body.shards).toMatchObject({ queried: 2, missing: [] });
    });

    it("when a vector from the same encoder is queried as base64 with its fingerprint, then the same document is found", async () => {
      const doc = DOCS[42]!;
      const emb = await call(`${encoder.url}/v1/embeddings`, "POST", {
        input: [doc.text],
        encoding_format: "base64",
      });
      const vector = (emb.body.data as { embedding: string }[])[0]!.embedding;
      const a = await q("/v1/query", "POST", { vector, k: 5, fingerprint });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect((a.body.results as { id: string }[])[0]!.id).toBe(doc.id);
      expect(a.body.results as unknown[]).toHaveLength(5);
    });

    it("when a filter is given, then only matching documents come back", async () => {
      const a = await q("/v1/query", "POST", {
        text: DOCS[0]!.text,
        k: 10,
        filter: { bucket: { in: [1, 2] } },
      });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      const results = a.body.results as { id: string; metadata: { bucket: number } }[];
      expect(results).toHaveLength(10);
      expect(results.every((r) => r.metadata.bucket !== 0)).toBe(true);
      expect(results.map((r) => r.id)).not.toContain(DOCS[0]!.id);
    });

    it("when a document is fetched by id, then it comes from its shard", async () => {
      const doc = DOCS[7]!;
      const a = await q(`/v1/documents/${encodeURIComponent(doc.id)}`);
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body).toMatchObject({ id: doc.id, text: doc.text, shard: SHARDS[shardForId(doc.id, 2)] });
    });

    it("when stats are asked for, then counts are summed over shards and each replica is listed live", async () => {
      const a = await q("/v1/stats");
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ index: "wordnet", generation: "g1", fingerprint, count: DOCS.length });
      const shards = a.body.shards as { replicas: { live: boolean; count: number }[] }[];
      for (const s of shards) for (const r of s.replicas) expect(r.live).toBe(true);
    });

    it("when a document is deleted, then it is gone from get and from query results", async () => {
      const doc = DOCS[200]!;
      const del = await q(`/v1/documents/${encodeURIComponent(doc.id)}`, "DELETE");
      expect(del.status, JSON.stringify(del.body)).toBe(200);
      expect((await q(`/v1/documents/${encodeURIComponent(doc.id)}`)).status).toBe(404);
      const a = await q("/v1/query", "POST", { text: doc.text, k: 5 });
      expect((a.body.results as { id: string }[]).map((r) => r.id)).not.toContain(doc.id);
      const batch = await q("/v1/documents/delete", "POST", { ids: [DOCS[201]!.id, DOCS[202]!.id] });
      expect(batch.body).toMatchObject({ deleted: 2 });
      expect((await q("/v1/stats")).body.count).toBe(DOCS.length - 3);
    });

    it("when the same query comes with a known length (node:http fast path) and chunked (express path), then the answers agree", async () => {
      const body = JSON.stringify({ text: DOCS[7]!.text, k: 5, includeMetadata: false });
      const fast = await q("/v1/query", "POST", body);
      const chunked = await new Promise<{ status: number; body: Record<string, unknown> }>(
        (resolve, reject) => {
          const req = httpRequest(
            `${router.url}/v1/query`,
            {
              method: "POST",
              headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
            },
            (res) => {
              let text = "";
              res.on("data", (c: Buffer) => {
                text += c.toString();
              });
              res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
            },
          );
          req.on("error", reject);
          req.write(body.slice(0, 10));
          req.end(body.slice(10));
        },
      );
      expect(fast.status, JSON.stringify(fast.body)).toBe(200);
      expect(chunked.status, JSON.stringify(chunked.body)).toBe(200);
      const ids = (a: { body: Record<string, unknown> }) =>
        (a.body.results as { id: string }[]).map((r) => r.id);
      expect(ids(fast)).toHaveLength(5);
      expect(ids(fast)[0]).toBe(DOCS[7]!.id);
      expect(ids(chunked)).toEqual(ids(fast));
      expect(chunked.body.partial).toBe(false);
      expect(fast.body.partial).toBe(false);
    });

    it("when any response is sent, then it carries the generation's fingerprint header", async () => {
      for (const a of [await q("/healthz"), await q("/v1/stats"), await q("/v1/query", "POST", { k: 0 })]) {
        expect(a.headers.get("x-embedops-model-fingerprint")).toBe(fingerprint);
      }
    });

    it("when /metrics is scraped, then request, shard and fan-out metrics are there with their labels", async () => {
      const text = await (await fetch(`${router.url}/metrics`)).text();
      expect(text).toContain(
        `embedops_router_request_duration_seconds_count{route="/v1/query",status="200",fingerprint="${fingerprint}",generation="g1"}`,
      );
      expect(text).toMatch(
        /embedops_router_shard_request_duration_seconds_count\{shard="s0",replica="http:[^"]+",op="query"\}/,
      );
      expect(text).toContain("embedops_router_fanout_duration_seconds_count");
      expect(text).toContain("embedops_router_hedges_total");
    });
  });

  describe("bad input", () => {
    it.each([
      { name: "a wrong-dimension vector", body: { vector: [0.1, 0.2, 0.3] }, field: "vector", status: 400 },
      { name: "an unknown field", body: { text: "x", topK: 3 }, field: "topK", status: 400 },
      {
        name: "a malformed filter",
        body: { text: "x", filter: { pos: { eq: "verb" } } },
        field: "filter.pos",
        status: 400,
      },
      { name: "k out of range", body: { text: "x", k: 5000 }, field: "k", status: 400 },
      { name: "ef above the shards' limit", body: { text: "x", ef: 20_000 }, field: "ef", status: 400 },
      { name: "a non-base64 vector string", body: { vector: "not base64!" }, field: "vector", status: 400 },
      {
        name: "a foreign declared fingerprint",
        body: { vector: Array(384).fill(0.1), fingerprint: "f".repeat(64) },
        field: "fingerprint",
        status: 409,
      },
    ])(
      "when a query has $name, then the answer is $status naming $field",
      async ({ body, field, status }) => {
        const a = await q("/v1/query", "POST", body);
        expect(a.status, JSON.stringify(a.body)).toBe(status);
        expect(errorOf(a).field).toBe(field);
        expect(errorOf(a).message).toContain(field);
      },
    );

    it("when a document id is longer than the shards accept, then get answers 400 naming id", async () => {
      const a = await q(`/v1/documents/${"x".repeat(300)}`);
      expect(a.status).toBe(400);
      expect(errorOf(a).field).toBe("id");
    });

    it("when the body is not JSON, then the answer is 400", async () => {
      const a = await q("/v1/query", "POST", "{nope");
      expect(a.status).toBe(400);
      expect(errorOf(a).code).toBe("invalid_json");
    });

    it("when a document batch repeats an id, then the answer is 400 naming the second one", async () => {
      const a = await q("/v1/documents", "POST", {
        documents: [
          { id: "a", text: "x" },
          { id: "a", text: "y" },
        ],
      });
      expect(a.status).toBe(400);
      expect(errorOf(a).field).toBe("documents[1].id");
    });
  });

  describe("encoder fingerprint mismatch", () => {
    it("when the generation's fingerprint differs from the encoder's, then text is refused naming both and readyz fails", async () => {
      const other = "0".repeat(64);
      const path = join(dir, "mismatch.json");
      writeConfig(path, { ...config, generation: "g-other", fingerprint: other });
      const r = await startRouterProcess(path);
      try {
        const a = await call(`${r.url}/v1/query`, "POST", { text: "hello" });
        expect(a.status).toBe(503);
        expect(errorOf(a).code).toBe("fingerprint_mismatch");
        expect(errorOf(a).message).toContain(other);
        expect(errorOf(a).message).toContain(fingerprint);
        const ingest = await call(`${r.url}/v1/documents`, "POST", { documents: [{ id: "z", text: "z" }] });
        expect(ingest.status).toBe(503);
        expect((await call(`${r.url}/readyz`, "GET")).status).toBe(503);
      } finally {
        await r.stop();
      }
    });
  });

  describe("replica failures", () => {
    it("when one replica of a shard is killed, then queries are still answered in full", async () => {
      await replicas[0]![1]!.kill9();
      for (let i = 0; i < 10; i++) {
        const a = await q("/v1/query", "POST", { text: DOCS[i]!.text, k: 3 });
        expect(a.status, JSON.stringify(a.body)).toBe(200);
        expect(a.body.partial).toBe(false);
        expect((a.body.results as { id: string }[])[0]!.id).toBe(DOCS[i]!.id);
      }
    });

    it("when write quorum is all and a replica is dead, then ingest answers 503 naming the shard and the replica", async () => {
      const dead = replicas[0]![1]!.url;
      const ids = DOCS.filter((d) => shardForId(d.id, 2) === 0).slice(0, 3);
      const a = await q("/v1/documents", "POST", { documents: ids });
      expect(a.status).toBe(503);
      expect(errorOf(a).code).toBe("write_quorum_not_met");
      expect(errorOf(a).message).toContain("shard s0");
      expect(errorOf(a).message).toContain(dead);
    });

    it("when the config lowers the write quorum to 1, then ingest succeeds and lists the failed replica", async () => {
      writeConfig(configPath, { ...config, writeQuorum: 1 });
      const dead = replicas[0]![1]!.url;
      const ids = DOCS.filter((d) => shardForId(d.id, 2) === 0).slice(0, 3);
      let a = await q("/v1/documents", "POST", { documents: ids });
      await eventually("config reload", async () => {
        a = await q("/v1/documents", "POST", { documents: ids });
        return a.status === 200;
      });
      const s0 = (
        a.body.shards as Record<
          string,
          { acknowledged: number; required: number; failed: { replica: string }[] }
        >
      ).s0!;
      expect(s0).toMatchObject({ acknowledged: 1, required: 1 });
      expect(s0.failed.map((f) => f.replica)).toEqual([dead]);
    });

    it("when both replicas of a shard are dead, then a query fails with 503 naming it", async () => {
      await replicas[1]![0]!.kill9();
      await replicas[1]![1]!.kill9();
      const a = await q("/v1/query", "POST", { text: "anything", k: 3 });
      expect(a.status).toBe(503);
      expect(errorOf(a).code).toBe("shard_unavailable");
      expect(errorOf(a).message).toContain("shard s1");
      await eventually("readyz reports s1", async () => (await q("/readyz")).status === 503);
    });

    it("when allowPartial is set and a shard is dead, then the answer is partial and lists it", async () => {
      const a = await q("/v1/query", "POST", { text: DOCS[1]!.text, k: 3, allowPartial: true });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body.partial).toBe(true);
      expect(a.body.shards).toMatchObject({ queried: 2, answered: 1, missing: ["s1"] });
      const ids = (a.body.results as { shard: string }[]).map((r) => r.shard);
      expect(new Set(ids)).toEqual(new Set(["s0"]));
      const metrics = await (await fetch(`${router.url}/metrics`)).text();
      expect(metrics).toMatch(/embedops_router_partial_responses_total [1-9]/);
    });
  });
});
