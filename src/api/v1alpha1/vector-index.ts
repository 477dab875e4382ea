import { z } from "zod";
import { Conditions, Timestamp } from "./condition.js";
import { duration } from "./duration.js";
import { API_VERSION } from "./group.js";
import { cel, listMap } from "./kube-extensions.js";
import { labelName, objectName } from "./names.js";
import { ownerMeta, ownerNameRule } from "./owner-meta.js";
import { quantity } from "./quantity.js";
import { ConfigMapKeyRef, localRef } from "./refs.js";
import { rolloutPolicyShape } from "./rollout-policy.js";
import { SnapshotPolicy } from "./snapshot-policy.js";
import { Fingerprint, FingerprintShort } from "./status-fields.js";

export const Metric = z.enum(["cosine", "l2", "ip"]);

const Hnsw = z
  .strictObject({
    m: z
      .number()
      .int()
      .min(2)
      .max(128)
      .default(16)
      .describe("Graph degree: more is better recall, more memory."),
    efConstruction: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(200)
      .describe("Candidate list size while building."),
    efSearch: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(64)
      .describe("Candidate list size per query (at least k); queries may override it."),
  })
  .prefault({})
  .describe("HNSW graph parameters.");

const Storage = z
  .strictObject({
    size: quantity("Volume size per shard replica.").default("10Gi"),
    storageClassName: z.string().max(253).optional().describe("StorageClass; unset: the cluster default."),
    retainOnDelete: z
      .boolean()
      .default(false)
      .describe("Keep the shards' claims when the index or a generation is deleted (default: delete them)."),
  })
  .prefault({})
  .describe("Persistent volume of each shard replica.");

const Router = z
  .strictObject({
    replicas: z.number().int().min(1).max(20).default(1).describe("Router pods."),
    timeoutMs: z
      .number()
      .int()
      .min(10)
      .max(60000)
      .default(2000)
      .describe("Per-request deadline for shard calls."),
    hedgeAfterPercentile: z
      .number()
      .min(50)
      .max(99.9)
      .optional()
      .describe(
        "Send a second request to another replica once a shard is slower than this percentile; unset: off.",
      ),
  })
  .prefault({})
  .describe("The index's query router.");

const IndexAuth = cel(
  z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe(
          "Require an API key (Authorization: Bearer KEY) on the router's /v1 routes; probes and /metrics stay open.",
        ),
      secretRef: z
        .strictObject({
          name: objectName("Secret name, same namespace."),
          key: z
            .string()
            .min(1)
            .max(253)
            .default("api-key")
            .describe("Key within the Secret; its value holds one API key per line."),
        })
        .optional()
        .describe(
          "Your own Secret holding the keys; unset: the operator creates <index>-auth with one random key " +
            "under api-key, once, and never changes it.",
        ),
    })
    .prefault({})
    .describe("Who may call the index's router."),
  [
    {
      rule: "self.enabled || !has(self.secretRef)",
      message: "spec.auth.secretRef is set but spec.auth.enabled is false; remove one of them",
      fieldPath: ".secretRef",
      check: (a) => a.enabled || a.secretRef === undefined,
    },
  ],
);

const Quality = z
  .strictObject({
    goldenSet: z
      .strictObject({
        configMapRef: ConfigMapKeyRef.describe(
          'JSON Lines, one {"query": "...", "relevant": ["id", ...]} per line.',
        ),
      })
      .describe("Queries with the ids a good index returns for them."),
    k: z.number().int().min(1).max(100).default(10).describe("Recall is measured at this k."),
    minRecall: z
      .number()
      .min(0)
      .max(1)
      .default(0.9)
      .describe("A candidate generation with lower recall@k on the golden set is rolled back."),
  })
  .describe("Quality gate of rollouts.");

const IndexRollout = z
  .strictObject({
    ...rolloutPolicyShape,
    backfill: z
      .strictObject({
        maxDocumentsPerSecond: z
          .number()
          .int()
          .min(1)
          .max(1000000)
          .default(200)
          .describe("Re-embedding rate cap, so serving SLOs hold during a backfill."),
      })
      .prefault({})
      .describe("How a new generation is filled."),
    retainPrevious: duration(
      "How long the previous generation (its shards and volumes) is kept after a promotion, for a " +
        "quick way back; then it is deleted.",
    ).default("1h"),
  })
  .prefault({})
  .describe("How a model change (new generation) is backfilled, canaried and promoted.");

export const VectorIndexSpec = cel(
  z
    .strictObject({
      modelRef: localRef("The EmbeddingModel that embeds documents and queries.", "EmbeddingModel"),
      dimension: z
        .number()
        .int()
        .min(1)
        .max(8192)
        .optional()
        .describe("Expected vector length; if set, must equal the model's (the operator checks)."),
      metric: cel(Metric.default("cosine").describe("Distance: cosine, l2 or ip (inner product)."), [
        {
          rule: "self == oldSelf",
          message:
            "spec.metric cannot change: stored vectors were indexed with the old metric; " +
            "create a new VectorIndex with the new metric and re-ingest",
        },
      ]),
      shards: cel(
        z.number().int().min(1).max(64).default(1).describe("Partitions of the index; fixed at creation."),
        [
          {
            rule: "self == oldSelf",
            message:
              "spec.shards cannot change in place; create a new VectorIndex and restore a snapshot into it",
          },
        ],
      ),
      replicas: z.number().int().min(1).max(5).default(1).describe("Copies of each shard."),
      writeQuorum: z
        .number()
        .int()
        .min(1)
        .max(5)
        .optional()
        .describe("Replicas that must commit before a write is acknowledged; unset: all."),
      hnsw: Hnsw,
      storage: Storage,
      router: Router,
      auth: IndexAuth,
      snapshot: SnapshotPolicy.optional(),
      restore: z
        .strictObject({ snapshotName: labelName("IndexSnapshot to restore, same namespace.") })
        .optional()
        .describe("Fill the first generation from a snapshot; read only at creation."),
      quality: Quality.optional(),
      rollout: IndexRollout,
    })
    .describe("A sharded HNSW index of the vectors one EmbeddingModel makes."),
  [
    {
      rule: "!has(self.writeQuorum) || self.writeQuorum <= self.replicas",
      message: "spec.writeQuorum must be <= spec.replicas",
      fieldPath: ".writeQuorum",
      check: (s) => s.writeQuorum === undefined || s.writeQuorum <= s.replicas,
    },
    {
      // Removal is allowed so a GitOps repository can drop the field once the restore is done.
      rule: "!has(self.restore) || (has(oldSelf.restore) && self.restore == oldSelf.restore)",
      message:
        "spec.restore is read only when the VectorIndex is created; it cannot be added or changed later",
      fieldPath: ".restore",
    },
  ],
);

export const IndexPhase = z.enum(["Pending", "Progressing", "Ready", "Degraded", "Failed"]);

export const GenerationPhase = z.enum(["Building", "Backfilling", "Canary", "Active", "Retired", "Failed"]);

// The phases of src/generation/generation-rollout.ts (the move to a new generation); what each one
// means is in controllers/README.md "Generations".
export const RolloutPhase = z.enum([
  "Building",
  "Backfilling",
  "Gating",
  "Progressing",
  "Paused",
  "Promoting",
  "Succeeded",
  "Failed",
]);

const count = (description: string) => z.number().int().min(0).describe(description);

const Generation = z.strictObject({
  name: labelName("Generation name; child objects carry it in embedops.dev/generation."),
  fingerprint: Fingerprint.describe("Model fingerprint the generation was built with."),
  phase: GenerationPhase.describe("Lifecycle of the generation."),
  vectors: count("Vectors stored, over all shards (one replica each).").optional(),
  createdAt: Timestamp.optional().describe("When the generation was started."),
  backfill: z
    .strictObject({
      done: count("Documents re-embedded."),
      total: count("Documents to re-embed."),
      rate: z.number().min(0).optional().describe("Documents per second, recently."),
      etaSeconds: count("Estimated seconds left.").optional(),
      withoutText: count("Documents stored without text: they cannot be re-embedded.").optional(),
    })
    .optional()
    .describe("Progress while the generation is being filled."),
});

const generationName = z.string().max(63);

// Mirrors GenerationRolloutStatus of src/generation/generation-rollout.ts, field for field.
export const GenerationRolloutStatus = z.strictObject({
  phase: RolloutPhase.describe("Where the move is."),
  reason: z.string().max(64).optional().describe("CamelCase reason for the phase, e.g. RecallGateFailed."),
  message: z.string().max(1024).optional().describe("Why the move is in this phase."),
  candidateGeneration: generationName.describe("The generation being moved to (N+1)."),
  candidateFingerprint: Fingerprint.describe("Model fingerprint of N+1."),
  fromGeneration: generationName.describe("The generation that served when the move started (N)."),
  fromFingerprint: Fingerprint.describe("Model fingerprint of N."),
  weight: z.number().int().min(0).max(100).describe("Percent of queries on N+1."),
  stepIndex: count("Index into stepWeights of the current step."),
  failedChecks: count("Failed analysis checks in this move."),
  inconclusiveChecks: count("Inconclusive checks in a row."),
  probing: z.boolean().optional().describe("Probe queries are sent to N+1."),
  startedAt: Timestamp.describe("When the move started."),
  phaseSince: Timestamp.describe("When the current phase (or step) began."),
  lastCheckTime: Timestamp.optional().describe("When the last check ran, or the current step began."),
  backfill: z
    .strictObject({
      done: count("Documents written to N+1."),
      total: count("Live documents in N."),
      withoutText: count("Documents of N without text."),
      etaSeconds: z.number().min(0).optional().describe("Estimated seconds left."),
    })
    .optional()
    .describe("The backfill's last reported progress."),
  lastRecall: z.number().min(0).max(1).optional().describe("Recall@k of N+1 at the recall gate."),
  lastVerdict: z
    .strictObject({
      result: z.enum(["Pass", "Fail", "Inconclusive"]).describe("Pass, Fail or Inconclusive."),
      message: z.string().max(1024).describe("Every failed check with its value and limit."),
    })
    .optional()
    .describe("The last analysis verdict of the query canary."),
  lastCommand: z
    .string()
    .max(128)
    .optional()
    .describe("The last embedops.dev/rollout-command annotation acted on."),
});

export const VectorIndexStatus = z
  .strictObject({
    observedGeneration: z.number().int().min(0).optional().describe("metadata.generation last acted on."),
    conditions: Conditions.optional(),
    phase: IndexPhase.optional().describe("Summary for humans; automation should read conditions."),
    fingerprint: Fingerprint.optional().describe("Model fingerprint of the active generation."),
    fingerprintShort: FingerprintShort.optional(),
    activeGeneration: z.string().max(63).optional().describe("The generation that serves queries."),
    generations: listMap(z.array(Generation).max(16).describe("Generations that exist now."), [
      "name",
    ]).optional(),
    rollout: GenerationRolloutStatus.optional().describe(
      "The move to a new generation in progress, or the last one; everything needed to resume it.",
    ),
    backfillProgress: z
      .string()
      .max(64)
      .optional()
      .describe('The backfill of the generation being moved to, for `kubectl get`, e.g. "41% ETA 3m".'),
    vectors: count("Vectors in the active generation.").optional(),
    lastSnapshot: z
      .strictObject({
        name: z.string().max(253).describe("IndexSnapshot name."),
        completedAt: Timestamp.describe("When it completed."),
      })
      .optional()
      .describe("The newest Succeeded IndexSnapshot of this index."),
    restoredFrom: z
      .strictObject({
        snapshot: z.string().max(253).describe("IndexSnapshot name (spec.restore.snapshotName)."),
        fromIndex: z.string().max(253).describe("The VectorIndex the snapshot was taken of."),
        fingerprint: Fingerprint.describe("Model fingerprint of the snapshot and the restored generation."),
        vectors: count("Vectors in the snapshot.").optional(),
        restoredAt: Timestamp.describe("When the restored generation's shards were first ready."),
      })
      .optional()
      .describe("The snapshot spec.restore filled the first generation from, once its shards were ready."),
    replicaSync: z
      .strictObject({
        generation: generationName.describe("The generation whose replicas this records."),
        servingReplicas: count("Replicas 0..servingReplicas-1 of every shard serve queries."),
        seeded: z
          .boolean()
          .optional()
          .describe(
            "Replicas were added in this generation since it started (every shard pod carries the seed init container).",
          ),
        replicas: z
          .array(
            z.strictObject({
              shard: z.string().max(63).describe("Shard name, e.g. shard-0."),
              replica: count("The replica's ordinal in its shard StatefulSet."),
              phase: z
                .enum(["Seeding", "Syncing", "Synced"])
                .describe(
                  "Seeding (copy of replica 0), Syncing (writes after it, no queries yet), Synced (serves).",
                ),
              seededAtSeq: count("Replica 0's seq the seed copy covers.").optional(),
              rowsCaughtUp: count("Rows its catch-up copied.").optional(),
              message: z.string().max(1024).optional().describe("Why it waits, or what failed last."),
            }),
          )
          .max(1024)
          .describe("Replicas added by raising spec.replicas, until the next change."),
      })
      .optional()
      .describe(
        "New replicas of the active generation: seeded from replica 0, then caught up, then queried.",
      ),
  })
  .describe("Observed state, written by the operator.");

export const VectorIndex = cel(
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("VectorIndex"),
    metadata: ownerMeta,
    spec: VectorIndexSpec,
    status: VectorIndexStatus.optional(),
  }),
  [ownerNameRule("VectorIndex")],
);

export type Metric = z.output<typeof Metric>;
export type VectorIndexSpec = z.output<typeof VectorIndexSpec>;
export type VectorIndexStatus = z.output<typeof VectorIndexStatus>;
export type VectorIndex = z.output<typeof VectorIndex>;
export type VectorIndexGenerationRollout = z.output<typeof GenerationRolloutStatus>;
export type VectorIndexInput = z.input<typeof VectorIndex>;
