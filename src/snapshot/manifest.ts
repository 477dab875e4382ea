// What a snapshot says about itself, stored next to its files: one manifest per shard (what the
// shard copied, with a checksum per file) and one top-level manifest that lists the shards. A
// restore reads the top manifest, then each shard's, and checks every file against it before use.
import { z } from "zod";
import { Timestamp } from "../api/v1alpha1/condition.js";
import { Sha256 } from "../api/v1alpha1/model-source.js";
import { Fingerprint } from "../api/v1alpha1/status-fields.js";
import { Metric } from "../api/v1alpha1/vector-index.js";

/** Bumped on an incompatible layout change; a reader refuses versions it does not know. */
export const MANIFEST_FORMAT_VERSION = 1;

const count = z.number().int().min(0);

export const SnapshotFile = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[^/\\]+$/, "must be a plain file name without a directory"),
  bytes: count,
  sha256: Sha256,
});

export const ShardManifest = z.strictObject({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  index: z.string().min(1).max(253),
  generation: z.string().min(1).max(63),
  shard: count,
  fingerprint: Fingerprint,
  metric: Metric,
  dimension: z.number().int().min(1).max(8192),
  hnsw: z.strictObject({ m: z.number().int().min(2), efConstruction: z.number().int().min(1) }),
  vectorCount: count,
  /** The watermark: every write with a sequence number <= seq is in the copy, none after it. */
  seq: count,
  files: z.array(SnapshotFile).min(1).max(64),
  createdAt: Timestamp,
});

export const SnapshotManifest = z.strictObject({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  index: z.string().min(1).max(253),
  generation: z.string().min(1).max(63),
  fingerprint: Fingerprint,
  shards: z
    .array(z.strictObject({ shard: count, manifestKey: z.string().min(1).max(1024), vectors: count }))
    .min(1)
    .max(64),
  createdAt: Timestamp,
});

export type SnapshotFile = z.output<typeof SnapshotFile>;
export type ShardManifest = z.output<typeof ShardManifest>;
export type SnapshotManifest = z.output<typeof SnapshotManifest>;

/** Parses a stored manifest; the error names where it came from and the first bad field. */
export function parseManifest<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const at = issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
  throw new Error(`snapshot manifest ${source} is invalid${at}: ${issue.message}`);
}

/** A shard manifest from what the shard copied; files sorted by name, so equal copies give equal JSON. */
export function buildShardManifest(input: Omit<ShardManifest, "formatVersion">): ShardManifest {
  const names = new Set<string>();
  for (const f of input.files) {
    if (names.has(f.name)) throw new Error(`shard ${input.shard}: file ${f.name} is listed twice`);
    names.add(f.name);
  }
  const files = [...input.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return parseManifest(
    ShardManifest,
    { formatVersion: MANIFEST_FORMAT_VERSION, ...input, files },
    `of shard ${input.shard}`,
  );
}

/**
 * The top-level manifest over shards 0..n-1. Refuses shards from another index, generation or model,
 * and a missing or repeated shard: a restore must never mix copies.
 */
export function buildSnapshotManifest(input: {
  index: string;
  generation: string;
  fingerprint: string;
  shards: readonly { manifestKey: string; manifest: ShardManifest }[];
  createdAt: string;
}): SnapshotManifest {
  const sorted = [...input.shards].sort((a, b) => a.manifest.shard - b.manifest.shard);
  sorted.forEach(({ manifest: m }, i) => {
    if (m.shard !== i)
      throw new Error(
        `snapshot of ${input.index}/${input.generation} needs shards 0..${sorted.length - 1} once each; ` +
          `found shard ${m.shard} where shard ${i} belongs`,
      );
    const mismatch = (field: string, got: string, want: string) =>
      new Error(`shard ${m.shard}'s manifest has ${field} ${got}, the snapshot has ${want}`);
    if (m.index !== input.index) throw mismatch("index", m.index, input.index);
    if (m.generation !== input.generation) throw mismatch("generation", m.generation, input.generation);
    if (m.fingerprint !== input.fingerprint) throw mismatch("fingerprint", m.fingerprint, input.fingerprint);
  });
  return parseManifest(
    SnapshotManifest,
    {
      formatVersion: MANIFEST_FORMAT_VERSION,
      index: input.index,
      generation: input.generation,
      fingerprint: input.fingerprint,
      shards: sorted.map((s) => ({
        shard: s.manifest.shard,
        manifestKey: s.manifestKey,
        vectors: s.manifest.vectorCount,
      })),
      createdAt: input.createdAt,
    },
    `of ${input.index}/${input.generation}`,
  );
}

/** undefined when the file matches its manifest entry; else an error naming the file and the difference. */
export function verifyFile(
  expected: SnapshotFile,
  actual: { bytes: number; sha256: string },
): Error | undefined {
  if (actual.bytes !== expected.bytes)
    return new Error(
      `snapshot file ${expected.name} has ${actual.bytes} bytes, its manifest says ${expected.bytes}: ` +
        `the copy is truncated or was replaced; restore from another snapshot`,
    );
  if (actual.sha256 !== expected.sha256)
    return new Error(
      `snapshot file ${expected.name} has sha256 ${actual.sha256}, its manifest says ${expected.sha256}: ` +
        `the copy is corrupt; restore from another snapshot`,
    );
  return undefined;
}
