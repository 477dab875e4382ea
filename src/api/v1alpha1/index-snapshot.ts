import { z } from "zod";
import { Conditions, Timestamp } from "./condition.js";
import { API_VERSION } from "./group.js";
import { cel, listMap } from "./kube-extensions.js";
import { Sha256 } from "./model-source.js";
import { ObjectMeta } from "./object-meta.js";
import { localRef } from "./refs.js";
import { Fingerprint } from "./status-fields.js";
import { Metric } from "./vector-index.js";

export const IndexSnapshotSpec = cel(
  z
    .strictObject({
      indexRef: localRef("The VectorIndex to snapshot.", "VectorIndex"),
      generation: z
        .string()
        .min(1)
        .max(63)
        .optional()
        .describe("Generation to copy; unset: the active one when the snapshot starts."),
    })
    .describe("One point-in-time copy of one index generation."),
  [
    {
      rule: "self == oldSelf",
      message: "IndexSnapshot spec is immutable; create a new IndexSnapshot instead",
    },
  ],
);

export const SnapshotPhase = z.enum(["Pending", "Running", "Succeeded", "Failed"]);

const count = (description: string) => z.number().int().min(0).describe(description);

const ShardSnapshot = z.strictObject({
  shard: count("Shard number."),
  vectors: count("Vectors in the shard's copy."),
  files: listMap(
    z
      .array(
        z.strictObject({
          name: z.string().min(1).max(253).describe("File name within the shard's snapshot directory."),
          bytes: count("Size."),
          sha256: Sha256.describe("Checksum, verified on restore."),
        }),
      )
      .max(64)
      .describe("Files of the shard's copy."),
    ["name"],
  ),
});

export const IndexSnapshotStatus = z
  .strictObject({
    observedGeneration: z.number().int().min(0).optional().describe("metadata.generation last acted on."),
    conditions: Conditions.optional(),
    phase: SnapshotPhase.optional().describe("Pending, Running, Succeeded or Failed."),
    generation: z.string().max(63).optional().describe("The generation copied."),
    fingerprint: Fingerprint.optional().describe("Model fingerprint of the copied generation."),
    metric: Metric.optional().describe("Metric of the copied generation."),
    dimension: z.number().int().min(1).max(8192).optional().describe("Vector length."),
    hnsw: z
      .strictObject({
        m: z.number().int().min(2).describe("Graph degree."),
        efConstruction: z.number().int().min(1).describe("Build candidate list size."),
        efSearch: z.number().int().min(1).optional().describe("Query candidate list size."),
      })
      .optional()
      .describe("HNSW parameters of the copied graph."),
    location: z
      .string()
      .max(2048)
      .optional()
      .describe("Where the files are, e.g. s3://bucket/prefix/index/name/."),
    startedAt: Timestamp.optional().describe("When the copy started."),
    completedAt: Timestamp.optional().describe("When the copy finished."),
    vectors: count("Vectors over all shards.").optional(),
    bytes: count("Bytes of every shard's files.").optional(),
    size: z.string().max(16).optional().describe('bytes for kubectl get, e.g. "753.2 MB".'),
    shards: listMap(z.array(ShardSnapshot).max(64).describe("Per-shard contents."), ["shard"]).optional(),
  })
  .describe("Observed state, written by the operator.");

export const IndexSnapshot = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal("IndexSnapshot"),
  metadata: ObjectMeta,
  spec: IndexSnapshotSpec,
  status: IndexSnapshotStatus.optional(),
});

export type IndexSnapshotSpec = z.output<typeof IndexSnapshotSpec>;
export type IndexSnapshotStatus = z.output<typeof IndexSnapshotStatus>;
export type IndexSnapshot = z.output<typeof IndexSnapshot>;
export type IndexSnapshotInput = z.input<typeof IndexSnapshot>;
