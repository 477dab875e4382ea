// The real processes of an index moving from model N to N+1, started through the CLI the way serve
// starts them (the data-plane tests' harness): N's encoder, shards and router, N+1's encoder and
// shards, and `embedops backfill --plan FILE` as its own child process.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BackfillRecord } from "../../src/generation/progress.js";
import { EncoderClient } from "../../src/router/encoder-client.js";
import type { HttpClient } from "../../src/router/http-client.js";
import { encodePoints, FINGERPRINT_HEADER, POINTS_CONTENT_TYPE } from "../../src/router/shard-client.js";
import { shardForId } from "../../src/router/shard-hash.js";
import {
  call,
  ROOT,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "../../test/dataplane/router-harness.js";
import type { EncoderCapacity } from "./report.js";

export const STABLE_MODEL = "all-minilm-l6-v2";
export const CANDIDATE_MODEL = "bge-small-en-v1.5";
export const modelDir = (name: string) => join(ROOT, "models", name);
export const haveModelDir = (name: string) => existsSync(join(modelDir(name), "model.onnx"));

const DIMENSION = 384;

export interface Encoder {
  role: Role;
  client: EncoderClient;
  fingerprint: string;
  maxClientBatchSize: number;
  documentPrefix: string;
}

export async function startEncoderOf(
  http: HttpClient,
  name: string,
  model: string,
  threads: number,
): Promise<Encoder> {
  const role = await startEncoder(["--threads", String(threads)], name, modelDir(model));
  await waitReady(role.url);
  const client = new EncoderClient(http, role.url);
  const info = await client.info(30_000);
  return {
    role,
    client,
    fingerprint: info.fingerprint,
    maxClientBatchSize: info.maxClientBatchSize,
    documentPrefix: info.documentPrefix,
  };
}

export interface Generation {
  name: string;
  fingerprint: string;
  shards: Role[];
}

export async function startGeneration(
  dir: string,
  name: string,
  fingerprint: string,
  shards: number,
): Promise<Generation> {
  const started = await Promise.all(
    Array.from({ length: shards }, (_, i) =>
      startShard(mkdtempSync(join(dir, `${name}-s${i}-`)), fingerprint, DIMENSION, `${name}-s${i}`),
    ),
  );
  await Promise.all(started.map((s) => waitReady(s.url)));
  return { name, fingerprint, shards: started };
}

/**
 * Embeds `texts` as documents, `batchSize` per /v1/embeddings request, one request in flight: how the
 * backfill calls its encoder. Returns the vectors and the rate.
 */
export async function embedAll(
  e: Encoder,
  texts: readonly string[],
  batchSize: number,
): Promise<{ vectors: Float32Array[]; capacity: EncoderCapacity }> {
  const size = Math.min(batchSize, e.maxClientBatchSize);
  const vectors: Float32Array[] = [];
  let requests = 0;
  const t = performance.now();
  for (let i = 0; i < texts.length; i += size) {
    const inputs = texts.slice(i, i + size).map((x) => e.documentPrefix + x);
    vectors.push(...(await e.client.embed(inputs, e.fingerprint, 120_000)));
    requests++;
  }
  const seconds = (performance.now() - t) / 1000;
  return {
    vectors,
    capacity: {
      docs: texts.length,
      batchSize: size,
      requests,
      seconds,
      docsPerSecond: texts.length / seconds,
    },
  };
}

export interface Doc {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
}

/** Writes the documents with their vectors to the shard each id hashes to, as the router would. */
export async function fill(
  http: HttpClient,
  gen: Generation,
  docs: readonly Doc[],
  vectors: readonly Float32Array[],
): Promise<void> {
  for (const [s, shard] of gen.shards.entries()) {
    const points = docs
      .map((d, i) => ({ ...d, vector: vectors[i] as Float32Array }))
      .filter((p) => shardForId(p.id, gen.shards.length) === s);
    for (let i = 0; i < points.length; i += 500) {
      const res = await http.request({
        method: "POST",
        url: `${shard.url}/v1/points`,
        headers: { "content-type": POINTS_CONTENT_TYPE, [FINGERPRINT_HEADER]: gen.fingerprint },
        body: encodePoints(points.slice(i, i + 500)),
        timeoutMs: 60_000,
      });
      if (res.status !== 200)
        throw new Error(`writing N to ${shard.name}: ${res.status} ${res.body.toString()}`);
    }
  }
}

/** A router serving generation N alone (N+1 takes no queries until the backfill is done). */
export async function startRouter(dir: string, stable: Encoder, gen: Generation): Promise<Role> {
  const path = join(dir, "router.json");
  writeConfig(path, {
    index: "wordnet",
    generation: "g-n",
    fingerprint: gen.fingerprint,
    dimension: DIMENSION,
    metric: "cosine",
    encoder: { url: stable.role.url },
    shards: gen.shards.map((s, i) => ({ name: `shard-${i}`, replicas: [s.url] })),
  });
  const router = await startRouterProcess(path);
  await waitReady(router.url);
  return router;
}

export interface PlanOptions {
  maxDocumentsPerSecond: number;
  batchSize: number;
  latencyGuard?: { metricsUrl: string; maxP99Ms: number; intervalSeconds: number };
}

export function writePlan(
  path: string,
  from: Generation,
  to: Generation,
  candidate: Encoder,
  o: PlanOptions,
): void {
  const shards = (g: Generation) => g.shards.map((s, i) => ({ name: `shard-${i}`, replicas: [s.url] }));
  writeFileSync(
    path,
    JSON.stringify({
      index: "wordnet",
      from: { generation: "g-n", fingerprint: from.fingerprint, shards: shards(from) },
      to: {
        generation: "g-n1",
        fingerprint: to.fingerprint,
        shards: shards(to),
        encoder: { url: candidate.role.url },
      },
      writeQuorum: "all",
      maxDocumentsPerSecond: o.maxDocumentsPerSecond,
      batchSize: o.batchSize,
      ...(o.latencyGuard ? { latencyGuard: o.latencyGuard } : {}),
    }),
  );
}

export interface BackfillProcess {
  child: ChildProcess;
  exit: Promise<number | null>;
  output(): string;
}

export function spawnBackfill(planPath: string): BackfillProcess {
  const child = spawn(process.execPath, [join(ROOT, "bin", "embedops.mjs"), "backfill", "--plan", planPath], {
    cwd: ROOT,
    env: { ...process.env, EMBEDOPS_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exit, output: () => out };
}

/** The backfill's progress record on N+1's first shard. */
export async function backfillRecord(to: Generation): Promise<BackfillRecord | undefined> {
  const r = await call(`${(to.shards[0] as Role).url}/v1/meta/backfill`, "GET");
  return r.status === 200 ? (r.body["value"] as BackfillRecord) : undefined;
}

/** Live documents per generation, summed over its shards' /v1/stats. */
export async function countOf(gen: Generation): Promise<number> {
  let n = 0;
  for (const s of gen.shards) n += Number((await call(`${s.url}/v1/stats`, "GET")).body["count"] ?? 0);
  return n;
}
