// The recall gate against real processes: real encoders and real shards. N is all-minilm-l6-v2
// (mean pooling); the healthy N+1 is bge-small-en-v1.5 (a real model upgrade: another fingerprint,
// CLS pooling and a query prefix the gate must apply). 2,000 WordNet noun definitions are embedded
// by each generation's encoder and written to its shards directly; the golden set is 50 lemmas, each
// with the definition it names as its one relevant id. A healthy N+1 passes; an N+1 with a starved
// graph fails recall@10; N+1s whose vectors do not match their queries (queries embedded by another
// model; a third of the documents embedded from another document's text) keep a good graph yet
// fail relevant recall against N. all-minilm-l6-v2-cls (the same weights as N, CLS pooling) is
// measured too: on this golden set it is a worse model than N, and the gate says so.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGoldenSet } from "../../src/generation/golden-set.js";
import { type GateGeneration, RecallGateError, runRecallGate } from "../../src/generation/recall-gate.js";
import { EncoderClient, withPrefix } from "../../src/router/encoder-client.js";
import { HttpClient } from "../../src/router/http-client.js";
import { encodePoints, FINGERPRINT_HEADER, POINTS_CONTENT_TYPE } from "../../src/router/shard-client.js";
import { fnv1a32, shardForId } from "../../src/router/shard-hash.js";
import { type Definition, nounDefinitions } from "../fixtures/corpus/noun-definitions.js";
import {
  CLS_MODEL_DIR,
  haveClsModel,
  haveModel,
  ROOT,
  type Role,
  startEncoder,
  startRole,
  waitReady,
} from "./router-harness.js";

const BGE_MODEL_DIR = join(ROOT, "models", "bge-small-en-v1.5");
const K = 10;
const MIN_RECALL = 0.9;
const DOCS = 2000;
const QUERIES = 50;

const defs = nounDefinitions(DOCS, 39);
/** 50 lemmas spread over the corpus, as the JSON Lines a user would put in the ConfigMap. */
const goldenText = Array.from({ length: QUERIES }, (_, i) => defs[i * (DOCS / QUERIES)] as Definition)
  .map((d) => JSON.stringify({ query: d.lemma, relevant: [d.id] }))
  .join("\n");

interface Encoder {
  role: Role;
  fingerprint: string;
  client: EncoderClient;
}

interface Gen extends GateGeneration {
  roles: Role[];
}

describe("recall gate with real encoders and shards", () => {
  const http = new HttpClient();
  const golden = parseGoldenSet(goldenText);
  let dir: string;
  let mean: Encoder;
  let cls: Encoder;
  const roles: Role[] = [];

  async function startEncoderOf(name: string, modelDir?: string): Promise<Encoder> {
    const role = await startEncoder(["--threads", "1"], name, modelDir);
    roles.push(role);
    await waitReady(role.url);
    const client = new EncoderClient(http, role.url);
    return { role, client, fingerprint: (await client.info(10_000)).fingerprint };
  }

  /** Every definition embedded as a document, in batches the encoder accepts. */
  async function embedAll(e: Encoder, texts: readonly string[]): Promise<Float32Array[]> {
    const info = await e.client.info(10_000);
    const batch = Math.min(32, info.maxClientBatchSize);
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const inputs = texts.slice(i, i + batch).map((t) => withPrefix(info, "document", t));
      out.push(...(await e.client.embed(inputs, e.fingerprint, 60_000)));
    }
    return out;
  }

  /**
   * A generation of `shards` real shard processes declaring `fingerprint`, each definition written
   * to the shard its id hashes to, with the vector `vectors[i]`.
   */
  async function generation(
    name: string,
    encoder: Encoder,
    fingerprint: string,
    vectors: readonly Float32Array[],
    shards: number,
    hnsw: string[] = [],
  ): Promise<Gen> {
    const started = await Promise.all(
      Array.from({ length: shards }, (_, s) =>
        startRole(`${name}-s${s}`, [
          "shard",
          ...["--data-dir", join(dir, `${name}-s${s}`), "--dimension", "384", "--metric", "cosine"],
          ...["--fingerprint", fingerprint, "--shard-id", `s${s}`, "--host", "127.0.0.1", "--port", "0"],
          ...hnsw,
        ]),
      ),
    );
    roles.push(...started);
    await Promise.all(started.map((r) => waitReady(r.url)));
    for (let s = 0; s < shards; s++) {
      const points = defs
        .map((d, i) => ({ id: d.id, vector: vectors[i] as Float32Array, text: d.text }))
        .filter((p) => shardForId(p.id, shards) === s);
      const res = await http.request({
        method: "POST",
        url: `${(started[s] as Role).url}/v1/points`,
        headers: { "content-type": POINTS_CONTENT_TYPE, [FINGERPRINT_HEADER]: fingerprint },
        body: encodePoints(points),
        timeoutMs: 60_000,
      });
      expect(res.status, res.body.toString()).toBe(200);
    }
    return {
      name,
      fingerprint,
      encoderUrl: encoder.role.url,
      shards: started.map((r, s) => ({ name: `s${s}`, replicas: [r.url] })),
      roles: started,
    };
  }

  let n: Gen;
  let healthy: Gen;
  let starved: Gen;
  let wrongQueries: Gen;
  let shuffled: Gen;
  let minilmCls: Gen;

  beforeAll(async () => {
    if (!haveModel() || !haveClsModel() || !existsSync(join(BGE_MODEL_DIR, "model.onnx")))
      throw new Error(
        'models/all-minilm-l6-v2, all-minilm-l6-v2-cls and bge-small-en-v1.5 are needed: run "npm run setup:models"',
      );
    expect(defs).toHaveLength(DOCS);
    expect(golden).toHaveLength(QUERIES);
    dir = mkdtempSync(join(tmpdir(), "embedops-recall-gate-"));
    let bge: Encoder;
    [mean, cls, bge] = await Promise.all([
      startEncoderOf("encoder-mean"),
      startEncoderOf("encoder-cls", CLS_MODEL_DIR),
      startEncoderOf("encoder-bge", BGE_MODEL_DIR),
    ]);
    expect(new Set([mean.fingerprint, cls.fingerprint, bge.fingerprint]).size).toBe(3);
    const texts = defs.map((d) => d.text);
    const [meanVectors, clsVectors, bgeVectors] = await Promise.all([
      embedAll(mean, texts),
      embedAll(cls, texts),
      embedAll(bge, texts),
    ]);
    // A third of the documents carry the vector of another document's text (a backfill that mixed
    // up its batches): those whose id hashes to 0 mod 3 take their neighbour's. Chosen by hash, not
    // by position, so the golden documents (every 40th) are hit about as often as the others.
    const mixed = bgeVectors.map((v, i) =>
      fnv1a32((defs[i] as Definition).id) % 3 === 0 ? (bgeVectors[(i + 1) % DOCS] as Float32Array) : v,
    );
    const hit = golden.filter((q) => fnv1a32(q.relevant[0] as string) % 3 === 0).length;
    console.log(
      `mixed-up documents: ${mixed.filter((v, i) => v !== bgeVectors[i]).length} of ${DOCS}, ${hit} of ${QUERIES} golden ones`,
    );
    // The damaged generations get a wide beam, so their graph passes recall@10 and what the gate
    // catches is the damage to the vectors, not a side effect of it on the graph walk.
    const wideBeam = ["--ef-search", "200"];
    [n, healthy, starved, wrongQueries, shuffled, minilmCls] = await Promise.all([
      generation("g-minilm", mean, mean.fingerprint, meanVectors, 2),
      generation("g-bge", bge, bge.fingerprint, bgeVectors, 3),
      // The smallest graph the shard allows, walked with the smallest beam (the shard uses at least k).
      generation("g-bge-starved", bge, bge.fingerprint, bgeVectors, 2, [
        ...["--m", "2", "--ef-construction", "2", "--ef-search", "1"],
      ]),
      // bge document vectors behind shards that declare MiniLM's fingerprint, so MiniLM embeds the
      // queries: a generation whose query-time encoder is not the one its documents were built with.
      generation("g-bge-docs-minilm-queries", mean, mean.fingerprint, bgeVectors, 1, wideBeam),
      generation("g-bge-mixed", bge, bge.fingerprint, mixed, 1, wideBeam),
      generation("g-minilm-cls", cls, cls.fingerprint, clsVectors, 2),
    ]);
  }, 600_000);

  afterAll(async () => {
    http.close();
    await Promise.all(roles.map((r) => r.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const gate = (candidate: Gen) =>
    runRecallGate({ golden, k: K, minRecall: MIN_RECALL, current: n, candidate, http });

  const report = (what: string, v: Awaited<ReturnType<typeof gate>>) =>
    console.log(
      `${what}: pass=${v.pass} recall@${K}=${v.recallAtK.toFixed(3)} relevant recall N=${v.relevantRecallN?.toFixed(3)} N+1=${v.relevantRecallN1?.toFixed(3)}\n  ${v.message}`,
    );

  it("when N+1 is a healthy new model, then the gate passes with recall@10 >= 0.9 and relevant recall within the tolerance", async () => {
    const v = await gate(healthy);
    report("healthy N+1", v);
    expect(v.pass, v.message).toBe(true);
    expect(v.recallAtK).toBeGreaterThanOrEqual(MIN_RECALL);
    expect([v.queries, v.relevantQueries]).toEqual([QUERIES, QUERIES]);
    expect(v.relevantRecallN1!).toBeGreaterThanOrEqual(v.relevantRecallN! - 0.05);
    expect(v.message).toMatch(
      /^recall@10 \d\.\d\d >= minRecall 0\.90 on 50 golden queries; relevant recall@10/,
    );
  });

  it("when N+1's graph is starved (m 2, efSearch 1), then the gate fails on recall@10, naming the value", async () => {
    const v = await gate(starved);
    report("starved N+1", v);
    expect([v.pass, v.reason]).toEqual([false, "RecallBelowMinimum"]);
    expect(v.recallAtK).toBeLessThan(MIN_RECALL);
    expect(v.message).toContain(`recall@10 ${v.recallAtK.toFixed(2)} < minRecall 0.90 on 50 golden queries`);
    expect(v.message).toContain("g-bge-starved");
  });

  it("when N+1's queries are embedded by another model than its documents, then relevant recall fails against N", async () => {
    const v = await gate(wrongQueries);
    report("queries embedded by another model", v);
    // The graph is fine: ANN still agrees with exact search; only the model's answers are wrong.
    expect(v.recallAtK).toBeGreaterThanOrEqual(MIN_RECALL);
    expect([v.pass, v.reason]).toEqual([false, "RelevantRecallRegressed"]);
    expect(v.message).toMatch(
      /^relevant recall@10 \d\.\d\d on generation g-bge-docs-minilm-queries is \d\.\d\d below \d\.\d\d on g-minilm \(tolerance 0\.05, 50 queries with relevant ids\)$/,
    );
  });

  it("when a third of N+1's documents were embedded from another document's text, then relevant recall fails against N", async () => {
    const v = await gate(shuffled);
    report("a third of documents mixed up", v);
    expect(v.recallAtK).toBeGreaterThanOrEqual(MIN_RECALL);
    expect([v.pass, v.reason]).toEqual([false, "RelevantRecallRegressed"]);
  });

  it("when N+1 is MiniLM with CLS pooling (the same weights as N), then the gate measures it as the worse model it is here", async () => {
    const v = await gate(minilmCls);
    report("MiniLM CLS pooling as N+1", v);
    expect(v.recallAtK).toBeGreaterThanOrEqual(MIN_RECALL);
    expect([v.pass, v.reason]).toEqual([false, "RelevantRecallRegressed"]);
  });

  it("when no golden query lists relevant ids, then N is not asked and only recall@10 decides", async () => {
    const plain = golden.map((q) => ({ query: q.query, relevant: [] }));
    const v = await runRecallGate({ golden: plain, k: K, minRecall: MIN_RECALL, candidate: healthy, http });
    expect(v.pass, v.message).toBe(true);
    expect(v.message).toMatch(/relevant recall not checked: no golden query lists relevant ids$/);
  });

  it("when one of N+1's shards is down, then the gate does not pass on the others: it fails naming the shard", async () => {
    await (starved.roles[1] as Role).stop();
    const err = await gate(starved).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RecallGateError);
    expect((err as RecallGateError).shard).toBe("s1");
    expect((err as Error).message).toMatch(/^generation g-bge-starved, shard s1: no live replica/);
  });
});
