// `embedops snapshot create`'s core: one consistent copy per shard, uploaded, then the manifests.
// Each shard copies itself (POST /v1/snapshot) into a staging directory on its own host, so the shard
// stays the only process that touches its data dir; this module then streams the staged files to the
// store. That needs the staging directory to be visible to both, which holds for `embedops serve`
// (one machine); in a cluster the copy would be taken in the shard's pod (not done yet).
//
// Order is the completeness rule: every file of a shard, then that shard's manifest, and the
// top-level manifest last, once every shard's manifest is written. A snapshot interrupted anywhere
// (a shard killed mid-copy, a store that fails) has no top manifest, and restore refuses it.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
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
  /** A directory on the shards' host for the copies; each is removed once uploaded. */
  readonly stagingDir: string;
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
  const { store, log } = input;
  const doFetch = input.fetch ?? fetch;
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
  const written: { manifestKey: string; manifest: ShardManifest }[] = [];
  let bytes = 0;
  for (const [shard, replicas] of input.shards.entries()) {
    const staging = join(
      input.stagingDir,
      `${input.snapshot}-shard-${shard}-${randomBytes(4).toString("hex")}`,
    );
    try {
      const { copy, url } = await copyFromOneReplica(doFetch, replicas, staging, shard, input.copyTimeoutMs);
      const manifest = shardManifestFromCopy(copy, {
        index: input.index,
        generation: input.generation,
        shard,
        fingerprint: input.fingerprint,
        createdAt,
      });
      for (const f of manifest.files) {
        await store.putFile(`${shardPrefix(root, shard)}${f.name}`, join(staging, f.name));
        bytes += f.bytes;
      }
      const key = shardManifestKey(root, shard);
      await store.putJson(key, manifest);
      written.push({ manifestKey: key, manifest });
      log.info("snapshot shard uploaded", {
        index: input.index,
        snapshot: input.snapshot,
        shard,
        replica: url,
        vectors: manifest.vectorCount,
        seq: manifest.seq,
        files: manifest.files.length,
        bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  const manifest = buildSnapshotManifest({
    index: input.index,
    generation: input.generation,
    fingerprint: input.fingerprint,
    shards: written,
    createdAt,
  });
  await store.putJson(manifestKey, manifest);
  return { root, manifestKey, manifest, shards: written.map((w) => w.manifest), bytes };
}

/** The first ready replica that completes a copy; the error names every replica's reason. */
async function copyFromOneReplica(
  doFetch: typeof fetch,
  replicas: readonly string[],
  staging: string,
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
        body: JSON.stringify({ dir: staging }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (!res.ok) {
        reasons.push(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
        await rm(staging, { recursive: true, force: true });
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
      await rm(staging, { recursive: true, force: true });
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
