// `embedops backfill` with real processes: generation N (all-minilm-l6-v2, mean pooling, 2 shards)
// filled into N+1 (the same weights with CLS pooling: another fingerprint, 3 shards) by the real CLI,
// its encoder a real `embedops encoder`. N+1's contents are checked against N's (ids, text,
// metadata) and its vectors against the CLS encoder's own embeddings; a kill -9 mid-way, clients
// writing to both generations meanwhile, documents without text and the rate cap each get a run.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BackfillRecord } from "../../src/generation/progress.js";
import { shardForId } from "../../src/router/shard-hash.js";
import { loadWordnetSentences } from "../fixtures/corpus/wordnet.js";
import {
  CLS_MODEL_DIR,
  call,
  haveClsModel,
  haveModel,
  ROOT,
  type Role,
  startEncoder,
  startShard,
  waitReady,
} from "./router-harness.js";

const N_DOCS = 2000;
const SENTENCES = loadWordnetSentences(N_DOCS + 600);
const BASE = SENTENCES.slice(0, N_DOCS).map((s, i) => ({
  id: s.id,
  text: s.text,
  metadata: { pos: s.pos, n: i },
}));
/** Texts the client writes while the backfill runs (new documents and updates). */
const EXTRA = SENTENCES.slice(N_DOCS).map((s) => s.text);

interface Doc {
  id: string;
  text?: string;
  metadata?: Record<string, unknown>;
}
interface Gen {
  name: string;
  fingerprint: string;
  shards: Role[];
}

let dir: string;
let oldEncoder: Role;
let clsEncoder: Role;
let oldFp: string;
let clsFp: string;
/** N's vectors (base64) for BASE, embedded once. */
const oldVectors = new Map<string, string>();
const roles: Role[] = [];

async function fingerprintOf(url: string): Promise<string> {
  return (await call(`${url}/info`, "GET")).body.fingerprint as string;
}

/** base64 float32 embeddings of `texts`, 32 per request. */
async function embed(url: string, texts: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < texts.length; i += 32) {
    const r = await call(`${url}/v1/embeddings`, "POST", {
      input: texts.slice(i, i + 32),
      encoding_format: "base64",
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    for (const d of r.body.data as { embedding: string }[]) out.push(d.embedding);
  }
  return out;
}

async function startGen(name: string, fingerprint: string, shards: number): Promise<Gen> {
  const started = await Promise.all(
    Array.from({ length: shards }, (_, i) =>
      startShard(mkdtempSync(join(dir, `${name}-s${i}-`)), fingerprint, 384, `${name}-s${i}`),
    ),
  );
  roles.push(...started);
  await Promise.all(started.map((s) => waitReady(s.url)));
  return { name, fingerprint, shards: started };
}

/** A client's write to one generation, routed as the router routes it. */
async function write(gen: Gen, docs: (Doc & { vector: string })[]): Promise<void> {
  const byShard = new Map<number, unknown[]>();
  for (const d of docs) {
    const s = shardForId(d.id, gen.shards.length);
    byShard.set(s, [...(byShard.get(s) ?? []), d]);
  }
  for (const [s, points] of byShard) {
    for (let i = 0; i < points.length; i += 500) {
      const r = await call(`${(gen.shards[s] as Role).url}/v1/points`, "POST", {
        points: points.slice(i, i + 500),
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
  }
}

async function remove(gen: Gen, ids: string[]): Promise<void> {
  for (const id of ids) {
    const r = await call(
      `${(gen.shards[shardForId(id, gen.shards.length)] as Role).url}/v1/points/delete`,
      "POST",
      {
        ids: [id],
      },
    );
    expect(r.status).toBe(200);
  }
}

/** Generation N holding BASE (first `n`), written with N's vectors. */
async function filledN(n = N_DOCS): Promise<Gen> {
  const gen = await startGen("n", oldFp, 2);
  await write(
    gen,
    BASE.slice(0, n).map((d) => ({ ...d, vector: oldVectors.get(d.id) as string })),
  );
  return gen;
}

/** Every live document of a generation: id -> {text, metadata}, and which shard held it. */
async function contents(
  gen: Gen,
): Promise<Map<string, { text: string | null; metadata: unknown; shard: number }>> {
  const out = new Map<string, { text: string | null; metadata: unknown; shard: number }>();
  for (const [shard, s] of gen.shards.entries()) {
    let after = 0;
    for (;;) {
      const r = await call(`${s.url}/v1/scan?afterSeq=${after}&limit=1000`, "GET");
      const items = r.body.items as { id: string; text: string | null; metadata: unknown }[];
      for (const it of items) {
        expect(out.has(it.id), `${it.id} held twice`).toBe(false);
        out.set(it.id, { text: it.text, metadata: it.metadata, shard });
      }
      after = r.body.nextAfterSeq as number;
      if (r.body.done) break;
    }
  }
  return out;
}

function plan(from: Gen, to: Gen, extra: Record<string, unknown> = {}): string {
  const shards = (g: Gen) => g.shards.map((s, i) => ({ name: `shard-${i}`, replicas: [s.url] }));
  const path = join(dir, `plan-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      index: "wordnet",
      from: { generation: "g-old", fingerprint: from.fingerprint, shards: shards(from) },
      to: {
        generation: "g-new",
        fingerprint: to.fingerprint,
        shards: shards(to),
        encoder: { url: clsEncoder.url },
      },
      writeQuorum: "all",
      maxDocumentsPerSecond: 100_000,
      ...extra,
    }),
  );
  return path;
}

interface Run {
  child: ChildProcess;
  exit: Promise<number | null>;
  output(): string;
}

function backfill(planPath: string): Run {
  const child = spawn(process.execPath, [join(ROOT, "bin", "embedops.mjs"), "backfill", "--plan", planPath], {
    cwd: ROOT,
    env: { ...process.env, EMBEDOPS_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exit, output: () => out };
}

async function record(to: Gen): Promise<BackfillRecord | undefined> {
  const r = await call(`${(to.shards[0] as Role).url}/v1/meta/backfill`, "GET");
  return r.status === 200 ? (r.body.value as BackfillRecord) : undefined;
}

/**
 * The score of `id` for a query by `vector` on the shard that owns it, among the few documents that
 * `filter` selects: the shard scores those exactly, so a miss is the vector's fault, not the graph's
 * (CLS vectors of a mean-pooling model lie close together; an unfiltered top-k can miss one).
 */
async function scoreOf(
  gen: Gen,
  id: string,
  vector: string,
  filter: Record<string, unknown>,
): Promise<number | undefined> {
  const shard = gen.shards[shardForId(id, gen.shards.length)] as Role;
  const r = await call(`${shard.url}/v1/query`, "POST", { vector, k: 20, filter });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.results as { id: string; score: number }[]).find((h) => h.id === id)?.score;
}

const ready = haveModel() && haveClsModel();

describe.skipIf(!ready)("embedops backfill", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-backfill-"));
    [oldEncoder, clsEncoder] = await Promise.all([
      startEncoder([], "encoder-mean"),
      startEncoder([], "encoder-cls", CLS_MODEL_DIR),
    ]);
    await Promise.all([waitReady(oldEncoder.url), waitReady(clsEncoder.url)]);
    oldFp = await fingerprintOf(oldEncoder.url);
    clsFp = await fingerprintOf(clsEncoder.url);
    expect(oldFp).not.toBe(clsFp);
    const t0 = Date.now();
    const vectors = await embed(
      oldEncoder.url,
      BASE.map((d) => d.text),
    );
    console.log(
      `encoder alone, 32 texts a request: ${((N_DOCS * 1000) / (Date.now() - t0)).toFixed(0)} docs/s`,
    );
    for (const [i, d] of BASE.entries()) oldVectors.set(d.id, vectors[i] as string);
  }, 300_000);

  afterEach(async () => {
    await Promise.all(roles.splice(0).map((r) => r.kill9()));
  });

  afterAll(async () => {
    await Promise.all([oldEncoder?.stop(), clsEncoder?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("when N holds 2,000 documents on 2 shards, then N+1 on 3 shards holds exactly them, re-embedded by the CLS model", async () => {
    const n = await filledN();
    const next = await startGen("n1", clsFp, 3);
    const started = Date.now();
    const run = backfill(plan(n, next));
    expect(await run.exit, run.output()).toBe(0);
    const seconds = (Date.now() - started) / 1000;
    const r = (await record(next)) as BackfillRecord;
    const inLoop = (Date.parse(r.updatedAt) - Date.parse(r.startedAt)) / 1000;
    console.log(
      `backfill of ${N_DOCS} docs, unthrottled, one encoder: ${(N_DOCS / inLoop).toFixed(0)} docs/s from start to finish record, ` +
        `${(N_DOCS / seconds).toFixed(0)} docs/s wall (${seconds.toFixed(1)} s incl. process start)`,
    );

    const want = await contents(n);
    const got = await contents(next);
    expect(got.size).toBe(N_DOCS);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [id, doc] of got) {
      expect(doc.shard, id).toBe(shardForId(id, 3));
      expect({ text: doc.text, metadata: doc.metadata }).toEqual({
        text: want.get(id)?.text,
        metadata: want.get(id)?.metadata,
      });
    }
    // Each sampled vector is the CLS model's embedding of the stored text, not N's mean-pooled one.
    const sample = BASE.filter((_, i) => i % 100 === 7);
    const cls = await embed(
      clsEncoder.url,
      sample.map((d) => d.text),
    );
    for (const [i, d] of sample.entries()) {
      const only = { n: d.metadata.n };
      expect(await scoreOf(next, d.id, cls[i] as string, only), d.id).toBeGreaterThan(0.9999);
      expect(await scoreOf(next, d.id, oldVectors.get(d.id) as string, only), d.id).toBeLessThan(0.99);
    }
    expect(await record(next)).toMatchObject({
      from: "g-old",
      to: "g-new",
      done: N_DOCS,
      withoutText: 0,
      total: N_DOCS,
      finished: true,
      etaSeconds: 0,
    });
  }, 300_000);

  it("when the backfill is killed with -9 past 25%, then a second run continues from the cursor: no id missing, none extra", async () => {
    const n = await filledN();
    const next = await startGen("n1", clsFp, 3);
    const path = plan(n, next, { maxDocumentsPerSecond: 300 });
    const first = backfill(path);
    let seen: BackfillRecord | undefined;
    for (;;) {
      seen = await record(next);
      if (seen && seen.done > N_DOCS / 4) break;
      expect(first.child.exitCode, first.output()).toBeNull();
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill("SIGKILL");
    await first.exit;
    expect(seen.done).toBeLessThan(N_DOCS);
    expect((await contents(next)).size).toBeLessThan(N_DOCS);

    const second = backfill(plan(n, next));
    expect(await second.exit, second.output()).toBe(0);
    expect(second.output()).toContain("backfill resuming");
    const got = await contents(next);
    const want = await contents(n);
    expect(got.size).toBe(want.size);
    expect([...want.keys()].filter((id) => !got.has(id))).toEqual([]);
    expect([...got.keys()].filter((id) => !want.has(id))).toEqual([]);
    const last = (await record(next)) as BackfillRecord;
    // Counted exactly once each; only the batch in flight at the kill was written twice (skipped).
    expect(last.done).toBe(N_DOCS);
    expect(last.skippedExisting).toBeLessThanOrEqual(64);
    expect(last.startedAt).toBe(seen.startedAt);
  }, 300_000);

  it("when the backfill gets SIGTERM, then it stops after the current batch with the record matching N+1 exactly", async () => {
    const n = await filledN(1000);
    const next = await startGen("n1", clsFp, 3);
    const run = backfill(plan(n, next, { maxDocumentsPerSecond: 200 }));
    for (;;) {
      const r = await record(next);
      if (r && r.done >= 200) break;
      expect(run.child.exitCode, run.output()).toBeNull();
      await new Promise((r) => setTimeout(r, 50));
    }
    run.child.kill("SIGTERM");
    expect(await run.exit, run.output()).toBe(1);
    expect(run.output()).toContain("the cursor is saved, run it again to continue");
    const r = (await record(next)) as BackfillRecord;
    expect(r.finished).toBe(false);
    expect(r.done).toBeLessThan(1000);
    // Nothing written after the record: every document in N+1 is counted, none beyond.
    expect((await contents(next)).size).toBe(r.done);
  }, 300_000);

  it("when a client writes, updates and deletes in both generations meanwhile, then N+1 ends equal to N", async () => {
    const n = await filledN();
    const next = await startGen("n1", clsFp, 3);
    // ~10 s for 2,000 documents: the client's ten rounds mostly fall inside it, and at least its
    // first round always does (checked below); how many more do depends on the machine's speed.
    const run = backfill(plan(n, next, { maxDocumentsPerSecond: 200 }));
    const updated = new Map<string, string>();
    const deleted: string[] = [];
    const added: string[] = [];
    let extra = 0;
    // Ten rounds over ~5 s, touching ids across the whole range: some already copied, some not yet.
    for (let round = 0; round < 10; round++) {
      const fresh = Array.from({ length: 10 }, (_, i) => ({
        id: `client-${round}-${i}`,
        text: EXTRA[extra++] as string,
        metadata: { pos: "client", round },
      }));
      const changed = Array.from({ length: 10 }, (_, i) => {
        const base = BASE[(round * 10 + i) * 19] as Doc;
        return { id: base.id, text: `${EXTRA[extra++]} (revised)`, metadata: { pos: "revised", round } };
      });
      const gone = Array.from({ length: 10 }, (_, i) => (BASE[(round * 10 + i) * 19 + 7] as Doc).id);
      const docs = [...fresh, ...changed];
      const [oldV, clsV] = await Promise.all([
        embed(
          oldEncoder.url,
          docs.map((d) => d.text),
        ),
        embed(
          clsEncoder.url,
          docs.map((d) => d.text),
        ),
      ]);
      // The router's dual-write: N with N's vectors, then N+1 with the CLS vectors.
      await write(
        n,
        docs.map((d, i) => ({ ...d, vector: oldV[i] as string })),
      );
      await write(
        next,
        docs.map((d, i) => ({ ...d, vector: clsV[i] as string })),
      );
      await remove(n, gone);
      await remove(next, gone);
      for (const d of changed) updated.set(d.id, d.text);
      added.push(...fresh.map((d) => d.id));
      deleted.push(...gone);
      if (round === 0)
        expect(
          run.child.exitCode,
          "the backfill ended before the client's first round: no overlap tested",
        ).toBeNull();
      await new Promise((r) => setTimeout(r, 400));
    }
    expect(await run.exit, run.output()).toBe(0);

    const want = await contents(n);
    const got = await contents(next);
    expect(want.size).toBe(N_DOCS + added.length - deleted.length);
    expect(got.size).toBe(want.size);
    for (const [id, doc] of want) {
      expect({ id, text: got.get(id)?.text, metadata: got.get(id)?.metadata }).toEqual({
        id,
        text: doc.text,
        metadata: doc.metadata,
      });
    }
    for (const id of deleted) expect(got.has(id), id).toBe(false);
    for (const [id, text] of updated) expect(got.get(id)?.text).toBe(text);
    // An updated document's vector is the CLS embedding of its new text.
    const some = [...updated].slice(0, 5);
    const cls = await embed(
      clsEncoder.url,
      some.map(([, t]) => t),
    );
    for (const [i, [id]] of some.entries()) {
      const only = { pos: "revised" };
      expect(await scoreOf(next, id, cls[i] as string, only), id).toBeGreaterThan(0.9999);
    }
  }, 300_000);

  it("when some documents of N have no text, then they are counted, the rest copied, and it exits 3 saying what to do", async () => {
    const n = await filledN(200);
    const bare = Array.from({ length: 15 }, (_, i) => ({
      id: `vector-only-${i}`,
      vector: oldVectors.get(BASE[i]?.id as string) as string,
    }));
    await write(n, bare);
    const next = await startGen("n1", clsFp, 3);
    const run = backfill(plan(n, next));
    expect(await run.exit, run.output()).toBe(3);
    expect(run.output()).toMatch(
      /15 document\(s\) of g-old have no text .*re-ingest them with text, or delete them/,
    );
    expect(await record(next)).toMatchObject({ withoutText: 15, done: 200, finished: true, total: 215 });
    const got = await contents(next);
    expect(got.size).toBe(200);
    for (const b of bare) expect(got.has(b.id)).toBe(false);
  }, 300_000);

  it("when maxDocumentsPerSecond is 100, then 500 documents take about 5 s, never faster than the cap + 20%", async () => {
    const n = await filledN(500);
    const next = await startGen("n1", clsFp, 3);
    const run = backfill(plan(n, next, { maxDocumentsPerSecond: 100 }));
    expect(await run.exit, run.output()).toBe(0);
    const r = (await record(next)) as BackfillRecord;
    expect(r.done).toBe(500);
    const seconds = (Date.parse(r.updatedAt) - Date.parse(r.startedAt)) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(4.2);
    expect(500 / seconds).toBeLessThanOrEqual(120);
  }, 300_000);

  it("when the candidate encoder is not N+1's model, then it refuses to start naming both fingerprints", async () => {
    const n = await filledN(10);
    const next = await startGen("n1", clsFp, 3);
    const path = plan(n, next);
    const wrong = JSON.parse(readFileSync(path, "utf8"));
    wrong.to.encoder.url = oldEncoder.url;
    writeFileSync(path, JSON.stringify(wrong));
    const run = backfill(path);
    expect(await run.exit, run.output()).toBe(1);
    expect(run.output()).toContain(`serves model fingerprint ${oldFp}`);
    expect(run.output()).toContain(`to.fingerprint is ${clsFp}`);
    expect(await record(next)).toBeUndefined();
  }, 120_000);

  it("when the plan is invalid, then it exits 2 naming the field", async () => {
    const path = join(dir, "bad-plan.json");
    writeFileSync(path, JSON.stringify({ index: "x", maxDocumentsPerSecond: -1 }));
    const run = backfill(path);
    expect(await run.exit, run.output()).toBe(2);
    expect(run.output()).toMatch(/maxDocumentsPerSecond: must be > 0/);
    expect(run.output()).toMatch(/from: /);
  }, 60_000);
});
