// Restore: a snapshot's files back into shard data directories. Every file is downloaded to a
// staging directory and checked against its manifest (size and sha256 of the staged bytes: hashed as
// they stream in from S3, or read back from the page cache beside the fsync of a path store's kernel
// copy; shards and their files in parallel) before anything is laid out, so a corrupt or incomplete snapshot
// leaves the targets untouched. Laying out renames the staged files into place when the staging dir
// shares the targets' filesystem (it normally sits next to them), else copies them.
//
// Same shard count: each shard's copy becomes the data dir of that shard (every replica gets the same
// files): shard.db at the top, the graph checkpoint under checkpoints/, so the shard loads the graph
// at the copy's seq and serves exactly the snapshot's documents.
//
// Another shard count: the documents move by the index's id hash (router/shard-hash.ts). The copies'
// SQLite files are read directly (they are plain files in staging; no shard holds them) and every live
// row is written through the shard's own Store into the new shard's database, so schema and identity
// are the shard's. No graph checkpoint is written there: a shard started on such a dir rebuilds its
// graph from the database once (it logs "no usable checkpoint"), which is slower to start but exact.
import { copyFile, mkdir, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { shardForId } from "../router/shard-hash.js";
import { Store, toFloat32 } from "../shard/store.js";
import type { DecodedPoint } from "../shard/wire.js";
import { fsyncFile } from "../util/copy-hashed.js";
import type { Logger } from "../util/log.js";
import { syncDir } from "./atomic-file.js";
import { shardManifestKey, shardPrefix, snapshotManifestKey } from "./layout.js";
import {
  parseManifest,
  ShardManifest,
  type ShardManifest as ShardManifestT,
  SnapshotManifest,
  type SnapshotManifest as SnapshotManifestT,
  verifyFile,
} from "./manifest.js";
import type { SnapshotStore } from "./store.js";

export const DATABASE_FILE = "shard.db";
const CHECKPOINT_FILE = /^checkpoint-\d{16}\.(hnsw|json)$/;

/** Where a snapshot file goes inside a shard data dir; throws for a file the shard would not read. */
export function placeFile(name: string): string {
  if (name === DATABASE_FILE) return name;
  if (CHECKPOINT_FILE.test(name)) return `checkpoints/${name}`;
  throw new Error(
    `snapshot file ${name} is not a shard database or graph checkpoint; the snapshot was not written by ` +
      `this embedops version, restore it with the version that took it`,
  );
}

/** undefined when the snapshot may be restored for `expected`; else why not, naming both. */
export function fingerprintRefusal(snapshot: string, actual: string, expected: string): string | undefined {
  if (actual === expected) return undefined;
  return (
    `snapshot ${snapshot} was taken with model fingerprint ${actual}, the target expects ${expected}: ` +
    `vectors of different models must not meet; restore into an index whose model has fingerprint ${actual}`
  );
}

/** Refuses a shard manifest that does not belong to the top manifest it is listed in. */
export function checkShardManifest(
  top: SnapshotManifestT,
  shard: ShardManifestT,
  expectedShard: number,
): void {
  const where = `shard ${expectedShard}'s manifest`;
  if (shard.shard !== expectedShard) throw new Error(`${where} says it is shard ${shard.shard}`);
  for (const field of ["index", "generation", "fingerprint"] as const) {
    if (shard[field] !== top[field])
      throw new Error(`${where} has ${field} ${shard[field]}, the snapshot's manifest has ${top[field]}`);
  }
}

export interface ReadSnapshot {
  readonly manifest: SnapshotManifestT;
  readonly shards: readonly ShardManifestT[];
}

/** Both manifest levels; a snapshot without its top manifest is incomplete and refused. */
export async function readSnapshot(store: SnapshotStore, root: string): Promise<ReadSnapshot> {
  const topKey = snapshotManifestKey(root);
  if (!(await store.head(topKey)).exists) {
    const any = (await store.list(root)).length > 0;
    throw new Error(
      any
        ? `snapshot at ${store.location}${root} is incomplete: it has no ${topKey} (it was interrupted, or is ` +
            `still being written); restore another snapshot (embedops snapshot list) and delete this one`
        : `no snapshot at ${store.location}${root}; see embedops snapshot list for the names`,
    );
  }
  const manifest = parseManifest(SnapshotManifest, await store.getJson(topKey), topKey);
  const shards: ShardManifestT[] = [];
  for (const [i, entry] of manifest.shards.entries()) {
    // The key is derived, not taken from entry.manifestKey: a snapshot copied under another prefix
    // still restores, and a manifest cannot point a restore outside its own snapshot.
    if (entry.shard !== i) throw new Error(`${topKey} lists shard ${entry.shard} where shard ${i} belongs`);
    const key = shardManifestKey(root, i);
    const shard = parseManifest(ShardManifest, await store.getJson(key), key);
    checkShardManifest(manifest, shard, i);
    shards.push(shard);
  }
  return { manifest, shards };
}

export interface RestoreInput {
  readonly store: SnapshotStore;
  /** The snapshot's root key, from layout.ts snapshotRoot. */
  readonly root: string;
  /** The model fingerprint the target serves; a different snapshot fingerprint is refused. */
  readonly expectedFingerprint: string;
  readonly shards: number;
  readonly replicas: number;
  /** The data dir of one target shard replica; each must be absent or empty. */
  readonly targetDir: (shard: number, replica: number) => string;
  /** Where files are downloaded and verified; removed afterwards. Beside the targets, files are renamed in. */
  readonly stagingDir: string;
  /** Shards downloaded at once; default 2. */
  readonly parallel?: number;
  readonly log: Logger;
}

export interface RestoreResult {
  readonly snapshot: ReadSnapshot;
  /** Live documents written into the targets. */
  readonly documents: number;
  /** Documents per target shard. */
  readonly perShard: readonly number[];
  readonly redistributed: boolean;
  readonly bytes: number;
}

export async function restoreSnapshot(input: RestoreInput): Promise<RestoreResult> {
  const { store, root, log } = input;
  if (!Number.isInteger(input.shards) || input.shards < 1)
    throw new Error(`--shards must be a positive integer, got ${input.shards}`);
  if (!Number.isInteger(input.replicas) || input.replicas < 1)
    throw new Error(`--replicas must be a positive integer, got ${input.replicas}`);
  const snap = await readSnapshot(store, root);
  const refusal = fingerprintRefusal(root, snap.manifest.fingerprint, input.expectedFingerprint);
  if (refusal) throw new Error(refusal);
  for (let s = 0; s < input.shards; s++)
    for (let r = 0; r < input.replicas; r++) await assertEmptyDir(input.targetDir(s, r));

  await rm(input.stagingDir, { recursive: true, force: true });
  let bytes = 0;
  try {
    // Download and verify everything first: a bad file refuses the restore before any target is written.
    for (const shard of snap.shards) for (const f of shard.files) placeFile(f.name);
    const started = performance.now();
    const downloads = await Promise.allSettled(
      inParallel(snap.shards, input.parallel ?? 2, async (shard) => {
        // A shard's files at once: one file's hash and fsync overlap the next one's copy.
        const files = await Promise.allSettled(
          shard.files.map(async (f) => {
            const key = `${shardPrefix(root, shard.shard)}${f.name}`;
            const local = join(input.stagingDir, `shard-${shard.shard}`, f.name);
            const problem = verifyFile(f, await store.getFile(key, local));
            if (problem) throw new Error(`${problem.message} (object ${store.location}${key})`);
            bytes += f.bytes;
          }),
        );
        const bad = files.find((d) => d.status === "rejected");
        if (bad) throw bad.reason;
      }),
    );
    const failed = downloads.find((d) => d.status === "rejected");
    if (failed) throw failed.reason;
    const downloaded = performance.now();
    const redistributed = input.shards !== snap.shards.length;
    const perShard = redistributed ? await redistribute(input, snap) : await layOut(input, snap);
    const documents = perShard.reduce((a, b) => a + b, 0);
    log.info("snapshot restored", {
      snapshot: root,
      fingerprint: snap.manifest.fingerprint,
      fromShards: snap.shards.length,
      toShards: input.shards,
      replicas: input.replicas,
      redistributed,
      documents,
      bytes,
      // Where a slow restore spends its time: fetching and checking every file, then laying them out.
      downloadMs: Math.round(downloaded - started),
      layOutMs: Math.round(performance.now() - downloaded),
    });
    return { snapshot: snap, documents, perShard, redistributed, bytes };
  } finally {
    await rm(input.stagingDir, { recursive: true, force: true });
  }
}

async function assertEmptyDir(dir: string): Promise<void> {
  const names = await readdir(dir).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [] as string[];
    throw err;
  });
  if (names.length > 0)
    throw new Error(
      `restore target ${dir} is not empty: restore into a new index (another --index), or stop its ` +
        `shard and remove the directory first`,
    );
}

async function layOut(input: RestoreInput, snap: ReadSnapshot): Promise<number[]> {
  for (const shard of snap.shards) {
    // Replica 0 takes the verified files themselves; the others copy from it.
    for (let r = 0; r < input.replicas; r++) {
      const dir = input.targetDir(shard.shard, r);
      await mkdir(join(dir, "checkpoints"), { recursive: true });
      for (const f of shard.files) {
        const to = join(dir, placeFile(f.name));
        if (r === 0) await moveDurably(join(input.stagingDir, `shard-${shard.shard}`, f.name), to);
        else await copyDurably(join(input.targetDir(shard.shard, 0), placeFile(f.name)), to);
      }
      await syncDir(join(dir, "checkpoints"));
      await syncDir(dir);
    }
  }
  return snap.shards.map((s) => s.vectorCount);
}

/** A staged file is already fsynced (getFile wrote it so); across filesystems it is copied. */
async function moveDurably(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EXDEV") throw err;
    await copyDurably(from, to);
  }
}

/** fn over every item, at most `limit` running at once; the promises in item order. */
function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void>[] {
  const slots: Promise<void>[] = [];
  return items.map((item, i) => {
    const before = i >= limit ? slots[i - limit] : undefined;
    const p = (before ?? Promise.resolve()).then(
      () => fn(item),
      () => fn(item),
    );
    slots.push(p);
    return p;
  });
}

const PAGE = 1000;

async function redistribute(input: RestoreInput, snap: ReadSnapshot): Promise<number[]> {
  const first = snap.shards[0] as ShardManifestT;
  const identity = { dimension: first.dimension, metric: first.metric, fingerprint: first.fingerprint };
  const targets = Array.from({ length: input.shards }, (_, s) =>
    Store.open(input.targetDir(s, 0), identity, "normal", `restore-${s}`),
  );
  const counts = targets.map(() => 0);
  try {
    for (const shard of snap.shards) {
      const db = new Database(join(input.stagingDir, `shard-${shard.shard}`, DATABASE_FILE));
      try {
        const page = db.prepare<
          [number, number],
          { label: number; id: string; vector: Buffer; metadata: string | null; text: string | null }
        >(
          "SELECT label, id, vector, metadata, text FROM points WHERE deleted = 0 AND label > ? ORDER BY label LIMIT ?",
        );
        for (let after = -1; ; ) {
          const rows = page.all(after, PAGE);
          if (rows.length === 0) break;
          const batches: DecodedPoint[][] = targets.map(() => []);
          for (const row of rows) {
            (batches[shardForId(row.id, input.shards)] as DecodedPoint[]).push({
              id: row.id,
              vector: toFloat32(row.vector),
              metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as Record<string, unknown>),
              text: row.text,
            });
          }
          batches.forEach((b, s) => {
            if (b.length === 0) return;
            (targets[s] as Store).upsert(b);
            counts[s] = (counts[s] as number) + b.length;
          });
          after = (rows[rows.length - 1] as (typeof rows)[number]).label;
        }
      } finally {
        db.close();
      }
    }
  } finally {
    for (const t of targets) t.close();
  }
  // Replicas start as byte copies of replica 0's database.
  for (let s = 0; s < input.shards; s++) {
    for (let r = 1; r < input.replicas; r++) {
      const dir = input.targetDir(s, r);
      await mkdir(dir, { recursive: true });
      await copyDurably(join(input.targetDir(s, 0), DATABASE_FILE), join(dir, DATABASE_FILE));
      await syncDir(dir);
    }
  }
  return counts;
}

/** A restored file is on disk before restore reports success: a crash afterwards must not lose it. */
async function copyDurably(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await fsyncFile(to);
}
