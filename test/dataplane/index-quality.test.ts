// Retrieval quality of the whole data plane on real text: 12,000 WordNet usage examples (Debian
// wordnet-base, WordNet 3.0 licence) embedded by the real MiniLM encoder, ingested through the
// router into 2 shards at default HNSW settings, then
//  - recall@10 of router vector queries against exact brute-force search over the stored vectors;
//  - hand-written paraphrases (test/fixtures/paraphrases.json) find their source sentence in the top 3.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWordnetSentences } from "../fixtures/corpus/wordnet.js";
import {
  call,
  haveModel,
  MODEL_DIR,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";

const CORPUS_SIZE = 12_000;
const QUERIES = 200;
const K = 10;

interface Paraphrase {
  sourceId: string;
  source: string;
  paraphrase: string;
}

function decodeBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, "base64");
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

async function embed(encoderUrl: string, texts: string[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  // The encoder takes at most 64 inputs per request (its maxClientBatchSize).
  for (let i = 0; i < texts.length; i += 64) {
    const res = await fetch(`${encoderUrl}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: texts.slice(i, i + 64), encoding_format: "base64" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { embedding: string }[] };
    out.push(...body.data.map((d) => decodeBase64(d.embedding)));
  }
  return out;
}

describe("retrieval quality on 12,000 real sentences", () => {
  let dir: string;
  let encoder: Role;
  let shards: Role[];
  let router: Role;
  let fingerprint: string;
  const corpus = loadWordnetSentences(CORPUS_SIZE + QUERIES);
  const documents = corpus.slice(0, CORPUS_SIZE);
  const heldOut = corpus.slice(CORPUS_SIZE, CORPUS_SIZE + QUERIES);

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    expect(documents).toHaveLength(CORPUS_SIZE);
    dir = mkdtempSync(join(tmpdir(), "embedops-quality-"));
    encoder = await startEncoder();
    await waitReady(encoder.url);
    fingerprint = ((await (await fetch(`${encoder.url}/info`)).json()) as { fingerprint: string })
      .fingerprint;
    shards = await Promise.all(["s0", "s1"].map((n) => startShard(join(dir, n), fingerprint, 384, n)));
    const configPath = join(dir, "router.json");
    writeConfig(configPath, {
      index: "wordnet",
      generation: "g1",
      fingerprint,
      dimension: 384,
      metric: "cosine",
      encoder: { url: encoder.url },
      shards: shards.map((s, i) => ({ name: `s${i}`, replicas: [s.url] })),
      timeoutMs: 30_000,
    });
    router = await startRouterProcess(configPath);
    await waitReady(router.url);
    for (let i = 0; i < documents.length; i += 256) {
      const batch = documents
        .slice(i, i + 256)
        .map((d) => ({ id: d.id, text: d.text, metadata: { pos: d.pos } }));
      const answer = await call(`${router.url}/v1/documents`, "POST", { documents: batch });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
  }, 1_800_000);

  afterAll(async () => {
    await Promise.all([router, encoder, ...(shards ?? [])].filter(Boolean).map((r) => r.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("when every document is ingested, then the router's stats count 12,000 vectors", async () => {
    const stats = await call(`${router.url}/v1/stats`, "GET");
    expect(stats.status).toBe(200);
    expect(JSON.stringify(stats.body)).toContain(`"count":${CORPUS_SIZE}`);
  });

  it("when held-out sentences are queried by vector, then recall@10 against brute force is at least 0.95", async () => {
    // Exact search runs over the vectors the shards actually stored (fetched back by id), so the
    // only difference measured is the approximate graph search plus the fan-out and merge.
    const stored: { id: string; vector: Float32Array }[] = [];
    for (let i = 0; i < documents.length; i += 64) {
      const chunk = documents.slice(i, i + 64);
      const got = await Promise.all(
        chunk.map(async (d) => {
          const answer = await call(`${router.url}/v1/documents/${encodeURIComponent(d.id)}`, "GET");
          expect(answer.status, `GET ${d.id}`).toBe(200);
          return { id: d.id, vector: decodeBase64(answer.body["vector"] as string) };
        }),
      );
      stored.push(...got);
    }
    const queries = await embed(
      encoder.url,
      heldOut.map((q) => q.text),
    );
    let hits = 0;
    for (const q of queries) {
      const exact = stored
        .map((s) => ({ id: s.id, score: dot(q, s.vector) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, K)
        .map((s) => s.id);
      const answer = await call(`${router.url}/v1/query`, "POST", {
        vector: Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString("base64"),
        fingerprint,
        k: K,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const got = new Set((answer.body["results"] as { id: string }[]).map((r) => r.id));
      hits += exact.filter((id) => got.has(id)).length;
    }
    const recall = hits / (queries.length * K);
    console.log(`recall@${K} over ${queries.length} held-out queries: ${recall.toFixed(4)}`);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  }, 600_000);

  it("when hand-written paraphrases are queried as text, then at least 90% find their source in the top 3", async () => {
    const { pairs } = JSON.parse(
      readFileSync(join(import.meta.dirname, "..", "fixtures", "paraphrases.json"), "utf8"),
    ) as {
      pairs: Paraphrase[];
    };
    expect(pairs.length).toBe(50);
    const byId = new Map(documents.map((d) => [d.id, d.text]));
    const misses: string[] = [];
    for (const p of pairs) {
      // The fixture names sentences of this corpus; a changed corpus must fail here, not pass vacuously.
      expect(byId.get(p.sourceId), p.sourceId).toBe(p.source);
      const answer = await call(`${router.url}/v1/query`, "POST", { text: p.paraphrase, k: 3 });
      expect(answer.status).toBe(200);
      const ids = (answer.body["results"] as { id: string }[]).map((r) => r.id);
      if (!ids.includes(p.sourceId))
        misses.push(`"${p.paraphrase}" → wanted ${p.sourceId} "${p.source}", got ${ids.join(", ")}`);
    }
    const found = pairs.length - misses.length;
    console.log(`paraphrases found in the top 3: ${found}/${pairs.length}\n${misses.join("\n")}`);
    expect(found / pairs.length, misses.join("\n")).toBeGreaterThanOrEqual(0.9);
  }, 300_000);
});
