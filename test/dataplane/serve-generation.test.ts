// Rollouts II under `embedops serve`, end to end with real processes: 5,000 WordNet definitions in
// an index built with all-MiniLM-L6-v2, a client that queries, writes and deletes throughout, and two
// model changes made by editing the served file:
//   1. a damaged candidate: the same MiniLM weights exported with CLS pooling (its directory declares
//      the pooling the weights were not trained for). Its generation is backfilled, then stopped by
//      the recall gate (relevant recall against N on the golden set); N+1 is deleted, N untouched,
//      and the model's candidate fails with it.
//   2. bge-small-en-v1.5: backfilled (the backfill is killed with SIGKILL mid-way and resumes; a
//      shard of N+1 is killed during dual-write), gated, canaried and promoted; the model follows.
// Every query response is checked for the generation and fingerprint that answered it.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGenerationFile } from "../../src/local/generation-file.js";
import { readRolloutFile } from "../../src/local/rollout-driver.js";
import { type Definition, nounDefinitions } from "../fixtures/corpus/noun-definitions.js";
import { CLS_MODEL_DIR, haveClsModel, haveModel, MODEL_DIR, ROOT } from "./router-harness.js";
import {
  childPids,
  cli,
  commandLine,
  killServe,
  type ServeProcess,
  spawnServe,
  until,
  waitServeReady,
} from "./serve-process.js";

const BGE_MODEL_DIR = join(ROOT, "models", "bge-small-en-v1.5");
const haveBge = () => existsSync(join(BGE_MODEL_DIR, "model.onnx"));
const DOCS = 5000;
const GOLDEN = 50;
const BGE_QUERY_PREFIX = "Represent this sentence for searching relevant passages: ";

// Every 15th noun synset gives about 5,400 distinct lemmas; the first 5,000 are the index, the rest
// are what the client writes while the index moves.
const all = nounDefinitions(DOCS + 400, 15);
const corpus = all.slice(0, DOCS);
const extra = all.slice(DOCS);
/** 50 lemmas spread over the corpus, each with its definition as the one relevant id. */
const golden = Array.from({ length: GOLDEN }, (_, i) => corpus[i * (DOCS / GOLDEN)] as Definition);
const goldenIds = new Set(golden.map((d) => d.id));

interface ModelSpace {
  path: string;
  pooling: "mean" | "cls";
  queryPrefix?: string;
}

const policy = `    analysisIntervalSeconds: 10
    stepWeights: [50]
    maxFailedChecks: 1
    maxInconclusiveChecks: 10
    slo:
      maxP99LatencyMs: 5000
      maxErrorRate: 0.05
      minRequests: 5
    probe:
      requests: 10`;

function yaml(space: ModelSpace): string {
  const goldenLines = golden.map((d) => `    ${JSON.stringify({ query: d.lemma, relevant: [d.id] })}`);
  return `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: encoder
spec:
  source:
    path: ${space.path}
  dimension: 384
  pooling: ${space.pooling}
  normalize: true
  maxSequenceLength: 256
${space.queryPrefix ? `  queryPrefix: ${JSON.stringify(space.queryPrefix)}\n` : ""}  runtime:
    replicas: 1
    threads: 2
  rollout:
${policy}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: golden
data:
  queries.jsonl: |
${goldenLines.join("\n")}
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: docs
spec:
  modelRef:
    name: encoder
  metric: cosine
  shards: 2
  replicas: 1
  quality:
    goldenSet:
      configMapRef: {name: golden, key: queries.jsonl}
    k: 10
    minRecall: 0.9
  rollout:
${policy}
    backfill:
      maxDocumentsPerSecond: 10000
    retainPrevious: 5s
`;
}

async function post(url: string, body: unknown, timeoutMs = 30_000): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

interface Answer {
  generation: string;
  fingerprint: string;
  results: { id: string }[];
}

/**
 * Queries, writes and deletes through the router until stopped. Every 200 answer is checked: the
 * body's and the headers' generation and fingerprint agree, and the generation is the one named
 * after that fingerprint (g-<first 12 hex digits>).
 */
function client(router: string) {
  const seen = { queries: 0, failedQueries: 0, mismatched: 0, fingerprints: new Set<string>() };
  const ackedWrites = new Set<string>();
  const attemptedWrites = new Set<string>();
  const ackedDeletes = new Set<string>();
  const attemptedDeletes = new Set<string>();
  let running = true;
  const queries = (async () => {
    for (let i = 0; running; i++) {
      const d = corpus[(i * 7919) % DOCS] as Definition;
      try {
        const res = await post(`${router}/v1/query`, { text: d.lemma, k: 5 }, 10_000);
        const body = (await res.json()) as Answer;
        seen.queries += 1;
        if (res.status !== 200) {
          seen.failedQueries += 1;
        } else {
          const g = res.headers.get("x-embedops-generation");
          const f = res.headers.get("x-embedops-model-fingerprint");
          if (g !== body.generation || f !== body.fingerprint || g !== `g-${f?.slice(0, 12)}`)
            seen.mismatched += 1;
          seen.fingerprints.add(body.fingerprint);
        }
      } catch {
        seen.queries += 1;
        seen.failedQueries += 1;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const writes = (async () => {
    for (let i = 0; running && i < extra.length; i++) {
      const d = extra[i] as Definition;
      const id = `client-${i}`;
      attemptedWrites.add(id);
      try {
        const res = await post(`${router}/v1/documents`, {
          documents: [{ id, text: d.text, metadata: { lemma: d.lemma } }],
        });
        await res.arrayBuffer();
        if (res.status === 200) ackedWrites.add(id);
      } catch {
        // not acknowledged: it may or may not be there
      }
      if (i % 4 === 0) {
        // A corpus document (never a golden one) deleted while the index moves must not come back.
        const victim = `def-${(i * 37 + 11) % DOCS}`;
        if (!goldenIds.has(victim) && !attemptedDeletes.has(victim)) {
          attemptedDeletes.add(victim);
          try {
            const res = await fetch(`${router}/v1/documents/${victim}`, {
              method: "DELETE",
              signal: AbortSignal.timeout(30_000),
            });
            await res.arrayBuffer();
            if (res.status === 200) ackedDeletes.add(victim);
          } catch {
            // not acknowledged
          }
        }
      }
      await new Promise((r) => setTimeout(r, 400));
    }
  })();
  return {
    seen,
    ackedWrites,
    attemptedWrites,
    ackedDeletes,
    attemptedDeletes,
    stop: async () => {
      running = false;
      await Promise.all([queries, writes]);
    },
  };
}

/** Relevant recall@10 of the golden queries through the router; every answer must come from `fingerprint`. */
async function goldenRecall(router: string, fingerprint: string): Promise<number> {
  let found = 0;
  for (const d of golden) {
    const res = await post(`${router}/v1/query`, { text: d.lemma, k: 10 });
    const body = (await res.json()) as Answer;
    expect(res.status).toBe(200);
    expect(body.fingerprint).toBe(fingerprint);
    if (body.results.some((r) => r.id === d.id)) found += 1;
  }
  return found / GOLDEN;
}

const processes = (serve: ServeProcess) =>
  childPids(serve.proc.pid!).map((pid) => ({ pid, cmd: commandLine(pid) }));

describe.skipIf(!haveModel() || !haveClsModel() || !haveBge())(
  "embedops serve moves an index to a new model generation (real processes, 5,000 documents)",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "embedops-serve-generation-"));
    const file = join(dir, "serve.yaml");
    const dataDir = join(dir, "data");
    let serve: ServeProcess;
    let router: string;
    let load: ReturnType<typeof client>;
    let minilm: { generation: string; fingerprint: string };
    /** N's relevant recall@10 on the golden set, measured through the router before any move. */
    let recallN = 0;

    beforeAll(async () => {
      writeFileSync(file, yaml({ path: MODEL_DIR, pooling: "mean" }));
      serve = spawnServe({ dataDir, file, env: { EMBEDOPS_TEST_MIN_INTERVAL_SECONDS: "3" } });
      const state = await waitServeReady(serve);
      router = state.indexes["docs"]!.router;
      const t0 = Date.now();
      for (let i = 0; i < DOCS; i += 64) {
        const batch = corpus
          .slice(i, i + 64)
          .map((d) => ({ id: d.id, text: d.text, metadata: { lemma: d.lemma } }));
        const res = await post(`${router}/v1/documents`, { documents: batch }, 120_000);
        expect(res.status, await res.text()).toBe(200);
      }
      process.stderr.write(`[serve-generation] ingested ${DOCS} documents in ${Date.now() - t0} ms\n`);
      minilm = readGenerationFile(dataDir, "docs")!.active;
      recallN = await goldenRecall(router, minilm.fingerprint);
      process.stderr.write(
        `[serve-generation] N's relevant recall@10 on the golden set: ${recallN.toFixed(2)}\n`,
      );
      load = client(router);
    }, 900_000);

    afterAll(async () => {
      await load?.stop();
      writeFileSync(join(tmpdir(), "embedops-serve-generation.log"), serve?.output() ?? "");
      if (serve) await killServe(serve);
      rmSync(dir, { recursive: true, force: true });
    });

    it("when the candidate's directory declares the wrong pooling, then the recall gate stops it: N+1 is deleted, N untouched, the model's candidate fails", async () => {
      const shardsBefore = processes(serve).filter((p) =>
        p.cmd.includes(`--shard-id docs/${minilm.generation}/`),
      );
      expect(shardsBefore).toHaveLength(2);
      writeFileSync(file, yaml({ path: CLS_MODEL_DIR, pooling: "cls" }));
      const failed = await until("the move fails", 600_000, () => {
        const s = readGenerationFile(dataDir, "docs")?.status;
        return s?.phase === "Failed" ? s : undefined;
      });
      expect(failed.reason, failed.message).toBe("RecallGateFailed");
      expect(failed.message).toMatch(/relevant recall/);
      const damaged = failed.candidateGeneration;
      expect(damaged).not.toBe(minilm.generation);
      const model = await until("the model's candidate fails", 30_000, () => {
        const c = readRolloutFile(dataDir, "encoder")?.canary;
        return c?.phase === "Failed" ? c : undefined;
      });
      expect(model.reason).toBe("IndexGenerationFailed");
      expect(model.message).toContain("index docs did not move");
      await until("N+1's shards stop", 30_000, () =>
        processes(serve).every((p) => !p.cmd.includes(`docs/${damaged}/`)),
      );
      await until(
        "N+1's data is deleted",
        30_000,
        () => !existsSync(join(dataDir, "indexes", "docs", damaged)),
      );
      // N: the same generation, the same shard processes, still answering.
      expect(readGenerationFile(dataDir, "docs")?.active).toEqual(minilm);
      const shardsAfter = processes(serve).filter((p) =>
        p.cmd.includes(`--shard-id docs/${minilm.generation}/`),
      );
      expect(shardsAfter.map((p) => p.pid).sort()).toEqual(shardsBefore.map((p) => p.pid).sort());
      const res = await post(`${router}/v1/query`, { text: "photosynthesis", k: 3 });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Answer).generation).toBe(minilm.generation);
      const status = cli(["rollout", "status", "vi/docs", "--data-dir", dataDir]);
      expect(status.stdout).toMatch(
        /^vi\/docs {2}generation g-\w{6}…\(0% of queries\) Failed \(RecallGateFailed\)/,
      );
    }, 900_000);

    it("when the model moves to bge-small, then the index is backfilled (surviving kill -9 of the backfill and of an N+1 shard), gated, canaried and promoted with no mixed answer and no lost write", async () => {
      writeFileSync(file, yaml({ path: BGE_MODEL_DIR, pooling: "cls", queryPrefix: BGE_QUERY_PREFIX }));
      const moving = await until("the move starts", 300_000, () => {
        const s = readGenerationFile(dataDir, "docs")?.status;
        return s && s.phase !== "Failed" && s.phase !== "Succeeded" ? s : undefined;
      });
      const bge = { generation: moving.candidateGeneration, fingerprint: moving.candidateFingerprint };
      expect(bge.generation).not.toBe(minilm.generation);

      // kill -9 the backfill once a fifth is done: serve starts it again and it resumes from its cursor.
      await until("a fifth backfilled", 600_000, () => {
        const s = readGenerationFile(dataDir, "docs")?.status;
        return (s?.backfill?.done ?? 0) >= DOCS / 5 || undefined;
      });
      const backfill = processes(serve).find((p) => / backfill --plan /.test(p.cmd));
      expect(backfill, "the backfill child process").toBeDefined();
      process.kill(backfill!.pid, "SIGKILL");
      const doneAtKill = readGenerationFile(dataDir, "docs")?.status?.backfill?.done ?? 0;
      await until("the backfill runs again", 60_000, () =>
        processes(serve).some((p) => / backfill --plan /.test(p.cmd) && p.pid !== backfill!.pid),
      );
      // `embedops rollout promote vi/docs` reaches serve through its command file; with no query canary
      // running yet serve records it and refuses it, and the CLI prints the status line.
      const promote = cli(["rollout", "promote", "vi/docs", "--data-dir", dataDir]);
      expect(promote.stdout, promote.stderr).toMatch(/^vi\/docs {2}generation g-\w{6}…\(0% of queries\) /);
      expect(readGenerationFile(dataDir, "docs")?.status?.lastCommand).toMatch(/^promote:[0-9a-f]{12}:/);
      // kill -9 a shard of N+1 while every write goes to both: it restarts; no acknowledged write is lost.
      const shard = processes(serve).find((p) => p.cmd.includes(`--shard-id docs/${bge.generation}/shard-1`));
      expect(shard, "an N+1 shard process").toBeDefined();
      process.kill(shard!.pid, "SIGKILL");

      const phases: string[] = [];
      const done = await until("the move ends", 900_000, () => {
        const s = readGenerationFile(dataDir, "docs")?.status;
        if (s && phases.at(-1) !== s.phase) phases.push(s.phase);
        return s?.phase === "Succeeded" || s?.phase === "Failed" ? s : undefined;
      });
      expect(done.phase, done.message).toBe("Succeeded");
      expect(phases).toEqual(expect.arrayContaining(["Gating", "Progressing", "Succeeded"]));
      expect(done.lastRecall).toBeGreaterThanOrEqual(0.9);
      expect(readGenerationFile(dataDir, "docs")?.active).toEqual(bge);
      const model = await until("the model follows", 60_000, () => {
        const f = readRolloutFile(dataDir, "encoder");
        return f?.stableFingerprint === bge.fingerprint ? f : undefined;
      });
      expect(model.canary?.reason).toBe("PromotedWithIndexes");
      const restarts = serve
        .output()
        .split("\n")
        .filter((l) => l.includes('"generation: backfill started"') && l.includes(bge.generation));
      expect(restarts.length).toBeGreaterThanOrEqual(2);
      expect(doneAtKill).toBeLessThan(DOCS);

      await load.stop();
      process.stderr.write(
        `[serve-generation] client: ${load.seen.queries} queries (${load.seen.failedQueries} failed, ${load.seen.mismatched} mismatched), ` +
          `${load.ackedWrites.size}/${load.attemptedWrites.size} writes and ${load.ackedDeletes.size}/${load.attemptedDeletes.size} deletes acknowledged\n`,
      );
      // No answer mixed generations, and only the models that built a generation answered.
      expect(load.seen.mismatched).toBe(0);
      expect([...load.seen.fingerprints].sort()).toEqual([minilm.fingerprint, bge.fingerprint].sort());
      // Failed queries stay within the SLO's error rate (a candidate shard killed on purpose included).
      expect(load.seen.queries).toBeGreaterThan(100);
      expect(load.seen.failedQueries / load.seen.queries).toBeLessThanOrEqual(0.05);
      expect(load.ackedWrites.size).toBeGreaterThan(10);
      expect(load.ackedDeletes.size).toBeGreaterThan(2);

      // Every acknowledged write is in the promoted generation; every acknowledged delete stays deleted;
      // every corpus document nobody tried to delete was backfilled (nothing skipped).
      const get = async (id: string) => {
        const res = await fetch(`${router}/v1/documents/${id}`, { signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        return res.status;
      };
      for (const id of load.ackedWrites) expect(await get(id), `acknowledged write ${id}`).toBe(200);
      for (const id of load.ackedDeletes) expect(await get(id), `acknowledged delete ${id}`).toBe(404);
      const missing: string[] = [];
      for (const d of corpus) {
        if (load.attemptedDeletes.has(d.id)) continue;
        if ((await get(d.id)) !== 200) missing.push(d.id);
      }
      expect(missing).toEqual([]);

      // The golden queries are answered by bge-small, and find their definitions at least as well as N
      // did, within the gate's tolerance (0.05).
      const recallN1 = await goldenRecall(router, bge.fingerprint);
      process.stderr.write(
        `[serve-generation] relevant recall@10: N ${recallN.toFixed(2)}, N+1 ${recallN1.toFixed(2)}\n`,
      );
      expect(recallN1).toBeGreaterThanOrEqual(recallN - 0.05);

      // N is kept for retainPrevious (5 s), then its shards stop and its data goes.
      await until(
        "N deleted after retainPrevious",
        60_000,
        () => !readdirSync(join(dataDir, "indexes", "docs")).includes(minilm.generation),
      );
      expect(processes(serve).some((p) => p.cmd.includes(`docs/${minilm.generation}/`))).toBe(false);
      const status = cli(["rollout", "status", "vi/docs", "--data-dir", dataDir]);
      expect(status.stdout).toMatch(/Succeeded \(Promoted\)/);
    }, 1_800_000);
  },
);
