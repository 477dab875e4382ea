// System (b): our router + 4 shards, each its own child process on 127.0.0.1 as in production (the
// router and the shards are separate pods there), driven over loopback HTTP by this process.
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  encodePoints,
  FINGERPRINT_HEADER,
  POINTS_CONTENT_TYPE,
  type ShardPoint,
} from "../../src/router/shard-client.js";
import { shardForId } from "../../src/router/shard-hash.js";
import { settleUntilSteady } from "../lib/settle.js";
import { type LatencySummary, summarizeLatencies } from "../lib/stats.js";
import { closedLoop } from "../lib/timing.js";
import type { VectorSet } from "./datasets.js";
import { json, request } from "./http.js";
import { type Proc, rssBytes, startProc } from "./procs.js";
import { meanRecall } from "./recall.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "embedops.mjs");

export interface Cluster {
  shards: Proc[];
  router: Proc;
  dataDir: string;
  fingerprint: string;
  configPath: string;
  emptyRss: number[];
}

export function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

export function routerConfig(
  set: VectorSet,
  fingerprint: string,
  shardUrls: string[],
  encoderUrl: string | null,
) {
  return {
    index: `bench-${set.name}`,
    generation: "g1",
    fingerprint,
    dimension: set.dim,
    metric: set.metric,
    encoder: encoderUrl === null ? null : { url: encoderUrl },
    shards: shardUrls.map((u, i) => ({ name: `s${i}`, replicas: [u] })),
    // A 100k-vector query at ef=256 under a loaded machine can take a while: do not count timeouts as misses.
    timeoutMs: 30_000,
  };
}

export async function startCluster(
  set: VectorSet,
  dataDir: string,
  fingerprint: string,
  shardCount: number,
  params: { m: number; efConstruction: number },
): Promise<Cluster> {
  mkdirSync(dataDir, { recursive: true });
  const shards = await Promise.all(
    Array.from({ length: shardCount }, (_, i) =>
      startProc(`shard-${i}`, process.execPath, [
        bin,
        "shard",
        "--data-dir",
        join(dataDir, `s${i}`),
        "--dimension",
        String(set.dim),
        "--metric",
        set.metric,
        "--fingerprint",
        fingerprint,
        "--shard-id",
        `s${i}`,
        "--m",
        String(params.m),
        "--ef-construction",
        String(params.efConstruction),
        "--host",
        "127.0.0.1",
        "--port",
        "0",
      ]),
    ),
  );
  for (const s of shards) await waitReady(s.url);
  const configPath = join(dataDir, "router.json");
  writeFileSync(
    configPath,
    JSON.stringify(
      routerConfig(
        set,
        fingerprint,
        shards.map((s) => s.url),
        null,
      ),
      null,
      2,
    ),
  );
  const router = await startProc("router", process.execPath, [
    bin,
    "router",
    "--config",
    configPath,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ]);
  await waitReady(router.url);
  return { shards, router, dataDir, fingerprint, configPath, emptyRss: shards.map((s) => rssBytes(s.pid)) };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await request(`${url}/readyz`).catch(() => undefined);
    if (r?.status === 200) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`${url} never became ready`);
}

export interface IngestResult {
  vectors: number;
  seconds: number;
  rate: number;
  batch: number;
}

/**
 * Vectors straight into the shards with the router's own id→shard hash and binary upsert: the router
 * only ingests texts (POST /v1/documents embeds them), so this is the path a vector bulk load takes.
 * One batch in flight per shard, as the router's replicated write does.
 */
export async function ingestVectors(c: Cluster, set: VectorSet, batch: number): Promise<IngestResult> {
  const perShard: number[][] = c.shards.map(() => []);
  for (let i = 0; i < set.n; i++) perShard[shardForId(`v${i}`, c.shards.length)]!.push(i);
  const t0 = performance.now();
  await Promise.all(
    c.shards.map(async (shard, s) => {
      const rows = perShard[s]!;
      for (let at = 0; at < rows.length; at += batch) {
        const points: ShardPoint[] = rows.slice(at, at + batch).map((i) => ({
          id: `v${i}`,
          vector: set.base.subarray(i * set.dim, (i + 1) * set.dim),
          text: set.texts?.[i],
        }));
        const res = await request(`${shard.url}/v1/points`, {
          method: "POST",
          body: encodePoints(points),
          contentType: POINTS_CONTENT_TYPE,
          headers: { [FINGERPRINT_HEADER]: c.fingerprint },
        });
        if (res.status !== 200)
          throw new Error(`upsert to ${shard.name}: ${res.status} ${res.body.slice(0, 300)}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { vectors: set.n, seconds, rate: set.n / seconds, batch };
}

export interface ClusterPoint {
  ef: number;
  clients: number;
  recall: number;
  qps: number;
  latency: LatencySummary;
  /** Router-reported time (parse + fan-out + merge), mean ms: the rest of the latency is client + HTTP. */
  routerMeanMs: number;
  errors: number;
}

function b64(set: VectorSet, q: number): string {
  const v = set.queries.subarray(q * set.dim, (q + 1) * set.dim);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64");
}

export async function sweepRouter(
  c: Cluster,
  set: VectorSet,
  truth: number[][],
  efs: readonly number[],
  clients: number,
  nq: number,
  k: number,
): Promise<ClusterPoint[]> {
  const bodies = Array.from({ length: nq }, (_, q) => b64(set, q));
  const out: ClusterPoint[] = [];
  for (const ef of efs) {
    const found: (number[] | undefined)[] = Array.from({ length: nq }, () => undefined);
    let routerMs = 0;
    let routerN = 0;
    const r = await closedLoop(
      { concurrency: clients, maxOps: nq, maxSeconds: 600, warmupOps: Math.min(32, nq) },
      async (seq) => {
        const q = seq % nq;
        const res = await request(`${c.router.url}/v1/query`, {
          method: "POST",
          body: JSON.stringify({ vector: bodies[q], k, ef, includeMetadata: false }),
        });
        if (res.status !== 200) throw new Error(`query: ${res.status} ${res.body.slice(0, 200)}`);
        const body = JSON.parse(res.body) as { results: { id: string }[]; tookMs: number };
        found[q] = body.results.map((h) => Number(h.id.slice(1)));
        routerMs += body.tookMs;
        routerN++;
      },
    );
    // closedLoop's warm-up covers the first queries again in the measured pass: every q is answered.
    const point: ClusterPoint = {
      ef,
      clients,
      // A failed query (503) is an availability error, reported in `errors`, not a recall miss.
      recall: answeredRecall(found, truth, k),
      qps: r.ops / r.seconds,
      latency: summarizeLatencies(r.latenciesMs),
      routerMeanMs: routerMs / Math.max(1, routerN),
      errors: r.errors,
    };
    if (r.errors > 0) process.stderr.write(`  (b) ef=${ef} errors=${r.errors}: ${r.firstError}\n`);
    out.push(point);
  }
  return out;
}

/**
 * The profile behind a miss: one client's mean latency at one ef through (1) one shard directly,
 * (2) all shards directly in parallel (the fan-out without the router), (3) the router. The steps
 * between them are the cost of HTTP to a shard, of fan-out over shards sharing 2 cores, and of the
 * router hop (JSON body, base64, zod, merge, second HTTP leg).
 */
function answeredRecall(found: readonly (number[] | undefined)[], truth: number[][], k: number): number {
  const idx = found.flatMap((f, q) => (f === undefined ? [] : [q]));
  return meanRecall(
    idx.map((q) => found[q]!),
    idx.map((q) => truth[q]!),
    k,
  );
}

export async function profileOneClient(c: Cluster, set: VectorSet, ef: number, nq: number, k: number) {
  const qs = Array.from({ length: nq }, (_, q) => {
    const v = set.queries.subarray(q * set.dim, (q + 1) * set.dim);
    return Buffer.from(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
  });
  const shardQuery = async (url: string, q: number) => {
    const res = await request(`${url}/v1/query?k=${k}&ef=${ef}&includeMetadata=false&includeText=false`, {
      method: "POST",
      body: qs[q],
      contentType: "application/octet-stream",
      headers: { [FINGERPRINT_HEADER]: c.fingerprint },
    });
    if (res.status !== 200) throw new Error(`shard query: ${res.status} ${res.body.slice(0, 200)}`);
    return JSON.parse(res.body) as { results: { id: string; score: number }[]; tookMs: number };
  };
  const time = async (fn: (q: number) => Promise<unknown>) => {
    for (let q = 0; q < Math.min(20, nq); q++) await fn(q);
    const t0 = performance.now();
    for (let q = 0; q < nq; q++) await fn(q);
    return (performance.now() - t0) / nq;
  };
  // A round trip that does no work: the floor any request to that process pays (HTTP + wake-ups).
  const healthzMs = await time(async () => {
    await request(`${c.shards[0]!.url}/healthz`);
  });
  let shardSearchMs = 0;
  const oneShardMs = await time(async (q) => {
    const r = await shardQuery(c.shards[0]!.url, q);
    shardSearchMs += r.tookMs;
  });
  const fanoutDirectMs = await time((q) => Promise.all(c.shards.map((s) => shardQuery(s.url, q))));
  const sequentialShardsMs = await time(async (q) => {
    for (const s of c.shards) await shardQuery(s.url, q);
  });
  const routerMs = await time(async (q) => {
    const v = qs[q]!;
    const res = await request(`${c.router.url}/v1/query`, {
      method: "POST",
      body: JSON.stringify({ vector: v.toString("base64"), k, ef, includeMetadata: false }),
    });
    if (res.status !== 200) throw new Error(`router query: ${res.status}`);
  });
  return {
    ef,
    queries: nq,
    healthzMs,
    oneShardMs,
    oneShardSearchMs: shardSearchMs / (nq + Math.min(20, nq)),
    fanoutDirectMs,
    sequentialShardsMs,
    routerMs,
  };
}

export async function shardStats(c: Cluster) {
  return Promise.all(
    c.shards.map((s) =>
      json<{ count: number; memory: { hnswBytes: number; rssBytes: number }; disk: { bytes: number } }>(
        `${s.url}/v1/stats`,
      ),
    ),
  );
}

export async function stopCluster(c: Cluster): Promise<void> {
  await c.router.stop();
  await Promise.all(c.shards.map((s) => s.stop()));
}

/**
 * After ingest the shards still write their checkpoints and the JIT has seen few queries, so the
 * first queries are slower than the steady state. Chroma gets the same treatment (it waits for its
 * compactor): probe a few queries until their time stops falling, then measure. A 503 here (a shard
 * too busy to answer the router's readiness probes) is waited out, counted and reported, not hidden.
 */
export async function settleRouter(
  c: Cluster,
  set: VectorSet,
  k: number,
): Promise<{ seconds: number; unavailableSeconds: number; firstUnavailable?: string }> {
  const probes = Math.min(30, set.nq);
  const bodies = Array.from({ length: probes }, (_, q) => b64(set, q));
  let firstUnavailable: string | undefined;
  const settled = await settleUntilSteady(async () => {
    for (let q = 0; q < probes; q++) {
      const res = await request(`${c.router.url}/v1/query`, {
        method: "POST",
        body: JSON.stringify({ vector: bodies[q], k, includeMetadata: false }),
      });
      if (res.status === 503) {
        firstUnavailable ??= res.body.slice(0, 300);
        return "unavailable";
      }
      if (res.status !== 200) throw new Error(`settle query: ${res.status} ${res.body.slice(0, 200)}`);
    }
    return "ok";
  });
  return { ...settled, ...(firstUnavailable === undefined ? {} : { firstUnavailable }) };
}
