// `embedops snapshot create`'s core: one consistent copy per shard, uploaded, then the manifests.
// Each shard copies itself (POST /v1/snapshot), so the shard stays the only process that touches its
// data dir. Two ways to get the copy to the store:
// - a staging dir both sides can read (`embedops serve`: one machine): the shard copies into it and
//   the files are moved (a path store on the same filesystem: renamed) or uploaded from there;
// - no staging dir (a cluster, where the shard is another pod): the shard keeps the copy under its own
//   data dir and serves it over HTTP; each file is streamed into the store, hashed on the way, and
//   must match the size and sha256 the shard listed; the copy is deleted on the shard afterwards.
// Shards are copied in parallel (bounded): each is its own process, so their copies overlap.
//
// Order is the completeness rule: every file of a shard, then that shard's manifest, and the
// top-level manifest last, once every shard's manifest is written. A snapshot interrupted anywhere
// (a shard killed mid-copy, a store that fails) has no top manifest, and restore refuses it.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { z } from "zod";
import type { Logger } from "../util/log.js";
import { shardManifestKey, shardPrefix, snapshotManifestKey, snapshotRoot } from "./layout.js";
import {
  buildShardManifest,
  buildSnapshotManifest,
  type ShardManifest,
  SnapshotFile,
  type SnapshotManifest,
} from "./manifest.js";
import type { SnapshotStore } from "./store.js";

/** What a shard's POST /v1/snapshot answers (src/shard/shard.ts ShardCopy), checked before use. */
export const ShardCopyResponse = z.object({
  shardId: z.string(),
  fingerprint: z.string(),
  metric: z.enum(["cosine", "l2", "ip"]),
  dimension: z.number().int().min(1),
  hnsw: z.object({ m: z.number().int(), efConstruction: z.number().int() }),
  vectorCount: z.number().int().min(0),
  seq: z.number().int().min(0),
  files: z.array(SnapshotFile).min(1),
  /** Set when the copy stays on the shard (no dir asked for): fetch its files under this id. */
  copy: z.string().optional(),
});
export type ShardCopyResponse = z.output<typeof ShardCopyResponse>;

export interface CreateSnapshotInput {
  readonly store: SnapshotStore;
  /** Store prefix ("" for a path store); keys are <prefix>/<index>/<snapshot>/... (layout.ts). */
  readonly prefix: string;
  readonly index: string;
  /** The snapshot's name: a Kubernetes object name. */
  readonly snapshot: string;
  readonly generation: string;
  /** The model fingerprint every shard must report; a shard of another model fails the snapshot. */
  readonly fingerprint: string;
  /** Replica URLs per shard, in shard order. */
  readonly shards: readonly (readonly string[])[];
  /**
   * A directory on the shards' host that this process reads too (embedops serve), for the copies;
   * each is removed once stored. Absent: the copies are fetched over the shards' HTTP API (a cluster).
   * A path store's own `stagingDir` makes the store a rename.
   */
  readonly stagingDir?: string;
  /** Shards copied at once; default 2. */
  readonly parallel?: number;
  readonly log: Logger;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
  /** Per shard copy request; a large shard takes a while. Default 30 minutes. */
  readonly copyTimeoutMs?: number;
}

export interface CreatedSnapshot {
  readonly root: string;
  readonly manifestKey: string;
  readonly manifest: SnapshotManifest;
  readonly shards: readonly ShardManifest[];
  readonly bytes: number;
}

/** The shard's manifest from what it copied; refuses a copy of another model or shard layout. */
export function shardManifestFromCopy(
  copy: ShardCopyResponse,
  at: { index: string; generation: string; shard: number; fingerprint: string; createdAt: string },
): ShardManifest {
  if (copy.fingerprint !== at.fingerprint)
    throw new Error(
      `shard ${at.shard} of ${at.index} serves model fingerprint ${copy.fingerprint}, the snapshot is of ` +
        `${at.fingerprint}: the index is changing model; snapshot again once the rollout finished`,
    );
  return buildShardManifest({
    index: at.index,
    generation: at.generation,
    shard: at.shard,
    fingerprint: copy.fingerprint,
    metric: copy.metric,
    dimension: copy.dimension,
    hnsw: copy.hnsw,
    vectorCount: copy.vectorCount,
    seq: copy.seq,
    files: copy.files,
    createdAt: at.createdAt,
  });
}

/** Takes, uploads and records a snapshot of every shard; the top manifest is written last. */
export async function createSnapshot(input: CreateSnapshotInput): Promise<CreatedSnapshot> {
  const { store } = input;
  const now = input.now ?? (() => new Date());
  const root = snapshotRoot(input.prefix, input.index, input.snapshot);
  const manifestKey = snapshotManifestKey(root);
  if ((await store.list(root)).length > 0)
    throw new Error(
      `snapshot ${input.snapshot} of ${input.index} already has objects at ${store.location}${root}; ` +
        `pick another name, or delete it first (embedops snapshot delete ${input.snapshot})`,
    );
  if (input.shards.length === 0) throw new Error(`index ${input.index} lists no shards to snapshot`);
  const createdAt = now().toISOString();
  const outcomes = await settleBounded(input.shards, input.parallel ?? 2, (replicas, shard) =>
    snapshotShard(input, root, createdAt, shard, replicas),
  );
  // Every shard has finished (or failed) before this returns: no copy is left half-fetched.
  const failed = outcomes.find((o) => o.status === "rejected");
  if (failed) throw failed.reason;
  const written = outcomes.map((o) => (o as PromiseFulfilledResult<WrittenShard>).value);
  const manifest = buildSnapshotManifest({
    index: input.index,
    generation: input.generation,
    fingerprint: input.fingerprint,
    shards: written,
    createdAt,
  });
  await store.putJson(manifestKey, manifest);
  const bytes = written.reduce((n, w) => n + w.manifest.files.reduce((m, f) => m + f.bytes, 0), 0);
  return { root, manifestKey, manifest, shards: written.map((w) => w.manifest), bytes };
}

interface WrittenShard {
  readonly manifestKey: string;
  readonly manifest: ShardManifest;
}

/** One shard: a copy from one replica, its files into the store, then its manifest. */
async function snapshotShard(
  input: CreateSnapshotInput,
  root: string,
  createdAt: string,
  shard: number,
  replicas: readonly string[],
): Promise<WrittenShard> {
  const { store } = input;
  const doFetch = input.fetch ?? fetch;
  const staging =
    input.stagingDir === undefined
      ? undefined
      : join(input.stagingDir, `${input.snapshot}-shard-${shard}-${randomBytes(4).toString("hex")}`);
  let remote: { url: string; copy: string } | undefined;
  try {
    const started = performance.now();
    const { copy, url } = await copyFromOneReplica(doFetch, replicas, staging, shard, input.copyTimeoutMs);
    const copied = performance.now();
    if (staging === undefined) {
      if (copy.copy === undefined)
        throw new Error(
          `shard ${shard} replica ${url} answered a copy without a copy id: it predates the HTTP snapshot ` +
            `transport; upgrade the shard image, or snapshot with a staging dir on the shard's host`,
        );
      remote = { url, copy: copy.copy };
    }
    const manifest = shardManifestFromCopy(copy, {
      index: input.index,
      generation: input.generation,
      shard,
      fingerprint: input.fingerprint,
      createdAt,
    });
    for (const f of manifest.files) {
      const key = `${shardPrefix(root, shard)}${f.name}`;
      if (remote) {
        await fetchIntoStore(doFetch, store, key, f, { shard, ...remote }, input.copyTimeoutMs);
        continue;
      }
      const local = join(staging as string, f.name);
      const put = store.moveFile ? await store.moveFile(key, local) : await store.putFile(key, local);
      if (put.bytes !== f.bytes)
        throw new Error(
          `snapshot file ${f.name} of shard ${shard} has ${put.bytes} bytes in ${staging}, the shard listed ` +
            `${f.bytes}: something else wrote to the staging dir; use a staging dir of its own and snapshot again`,
        );
    }
    const key = shardManifestKey(root, shard);
    await store.putJson(key, manifest);
    input.log.info("snapshot shard uploaded", {
      index: input.index,
      snapshot: input.snapshot,
      shard,
      replica: url,
      transport: remote ? "http" : "staging",
      vectors: manifest.vectorCount,
      seq: manifest.seq,
      files: manifest.files.length,
      bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
      // Where a slow snapshot spends its time: the shard's copy, then moving it into the store.
      copyMs: Math.round(copied - started),
      storeMs: Math.round(performance.now() - copied),
    });
    return { manifestKey: key, manifest };
  } finally {
    if (staging !== undefined) await rm(staging, { recursive: true, force: true });
    if (remote) await deleteRemoteCopy(doFetch, remote, input.log);
  }
}

/** Streams one file of a shard's copy into the store; refuses it unless size and sha256 match the listing. */
async function fetchIntoStore(
  doFetch: typeof fetch,
  store: SnapshotStore,
  key: string,
  f: SnapshotFile,
  from: { shard: number; url: string; copy: string },
  timeoutMs = 30 * 60_000,
): Promise<void> {
  const where = `shard ${from.shard}'s copy ${from.copy} at ${from.url}`;
  const res = await doFetch(`${from.url}/v1/snapshot/${from.copy}/files/${encodeURIComponent(f.name)}`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok || res.body === null) {
    const text = await res.text().catch(() => "");
    throw new Error(
      `cannot fetch snapshot file ${f.name} from ${where}: ${res.status} ${text.slice(0, 300)}`,
    );
  }
  const put = await store.putStream(key, Readable.fromWeb(res.body as WebReadableStream<Uint8Array>));
  if (put.bytes !== f.bytes || put.sha256 !== f.sha256)
    throw new Error(
      `snapshot file ${f.name} from ${where} arrived with ${put.bytes} bytes and sha256 ${put.sha256}, the ` +
        `shard listed ${f.bytes} bytes and sha256 ${f.sha256}: it changed on the shard's disk or in transit; ` +
        `the snapshot is incomplete (no top manifest), snapshot again`,
    );
}

/** Best effort: a copy left behind is removed by the shard itself after an hour. */
async function deleteRemoteCopy(
  doFetch: typeof fetch,
  remote: { url: string; copy: string },
  log: Logger,
): Promise<void> {
  try {
    const res = await doFetch(`${remote.url}/v1/snapshot/${remote.copy}`, {
      method: "DELETE",
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`answered ${res.status}`);
  } catch (err) {
    log.warn("snapshot copy left on the shard", {
      replica: remote.url,
      copy: remote.copy,
      reason: `${(err as Error).message}${causeOf(err)}`,
      next: "the shard removes it after an hour",
    });
  }
}

/** fn over every item, at most `limit` at once; every outcome, in item order. */
async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        out[i] = { status: "fulfilled", value: await fn(items[i] as T, i) };
      } catch (reason) {
        out[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The first ready replica that completes a copy; the error names every replica's reason. */
async function copyFromOneReplica(
  doFetch: typeof fetch,
  replicas: readonly string[],
  staging: string | undefined,
  shard: number,
  timeoutMs = 30 * 60_000,
): Promise<{ copy: ShardCopyResponse; url: string }> {
  const reasons: string[] = [];
  for (const url of replicas) {
    try {
      const ready = await doFetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      if (!ready.ok) {
        reasons.push(`${url} is not ready (${ready.status})`);
        continue;
      }
      const res = await doFetch(`${url}/v1/snapshot`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(staging === undefined ? {} : { dir: staging }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) {
        reasons.push(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
        if (staging !== undefined) await rm(staging, { recursive: true, force: true });
        continue;
      }
      const parsed = ShardCopyResponse.safeParse(JSON.parse(text));
      if (!parsed.success) {
        reasons.push(`${url} answered an unexpected copy description (${parsed.error.issues[0]?.message})`);
        continue;
      }
      return { copy: parsed.data, url };
    } catch (err) {
      reasons.push(`${url}: ${(err as Error).message}${causeOf(err)}`);
      if (staging !== undefined) await rm(staging, { recursive: true, force: true });
    }
  }
  throw new Error(
    `no replica of shard ${shard} made a copy (${reasons.join("; ")}); the snapshot is incomplete ` +
      `(no top manifest) and restore refuses it; start the shard and snapshot again`,
  );
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause ? ` (${cause.code ?? cause.message ?? "?"})` : "";
}
