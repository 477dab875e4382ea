import { z } from "zod";
import { Conditions, Timestamp } from "./condition.js";
import { API_VERSION } from "./group.js";
import { cel } from "./kube-extensions.js";
import { ModelSource } from "./model-source.js";
import { ownerMeta, ownerNameRule } from "./owner-meta.js";
import { SecretKeyRef } from "./refs.js";
import { ModelRolloutPolicy } from "./rollout-policy.js";
import { EncoderRuntime } from "./runtime.js";
import { Fingerprint, FingerprintShort } from "./status-fields.js";

export const Pooling = z.enum(["mean", "cls"]);

export const EmbeddingModelSpec = z
  .strictObject({
    source: ModelSource,
    dimension: z.number().int().min(1).max(8192).describe("Length of the vectors the model produces."),
    pooling: Pooling.describe("How token vectors become one: mean (sentence-transformers) or cls (BGE)."),
    normalize: z.boolean().default(true).describe("Scale vectors to unit length."),
    maxSequenceLength: z
      .number()
      .int()
      .min(1)
      .max(8192)
      .default(256)
      .describe("Tokens kept per input; longer inputs are truncated."),
    queryPrefix: z.string().max(256).default("").describe('Prepended to queries, e.g. "query: " for E5.'),
    documentPrefix: z.string().max(256).default("").describe('Prepended to documents, e.g. "passage: ".'),
    runtime: EncoderRuntime,
    rollout: ModelRolloutPolicy,
    authSecretRef: SecretKeyRef.optional().describe(
      "Secret key holding the bearer token clients must send; unset: no authentication.",
    ),
  })
  .describe(
    "An ONNX sentence encoder. The fingerprint (weights sha256, dimension, pooling, normalize, " +
      "prefixes) ties it to the indexes built with it.",
  );

// The phases of src/rollout/state-machine.ts; README "Rollouts (pure core)" in controllers/ says
// what each one means for traffic and replicas.
export const CanaryPhase = z.enum([
  "Initializing",
  "Progressing",
  "Paused",
  "Promoting",
  "Succeeded",
  "Failed",
]);

export const VerdictResult = z.enum(["Pass", "Fail", "Inconclusive"]);

const count = (description: string) => z.number().int().min(0).describe(description);
const revisionField = (description: string) => z.string().min(1).max(64).describe(description);

// Everything the rollout needs to resume lives here, so an operator (or serve) restart mid-rollout
// continues at the same step.
export const CanaryStatus = z.strictObject({
  phase: CanaryPhase.describe("Where the canary is."),
  reason: z
    .string()
    .max(64)
    .optional()
    .describe("CamelCase reason for the phase, e.g. NewGenerationRequired."),
  message: z.string().max(1024).optional().describe("Why the canary is in this phase."),
  revision: revisionField("Revision being rolled out (hash of what goes into an encoder pod)."),
  stableRevision: revisionField("Revision that served when the rollout started."),
  fingerprint: Fingerprint.optional().describe("Fingerprint of the canary encoder, from its /info."),
  weight: z.number().int().min(0).max(100).describe("Percent of traffic on the canary."),
  stepIndex: count("Index into stepWeights of the current step."),
  failedChecks: count("Failed analysis checks in this rollout."),
  inconclusiveChecks: count("Inconclusive checks in a row."),
  probing: z.boolean().optional().describe("Probe traffic is sent to the canary."),
  startedAt: Timestamp.describe("When the rollout of this revision started."),
  lastCheckTime: Timestamp.optional().describe("When the last check ran, or the current step began."),
  lastVerdict: z
    .strictObject({
      result: VerdictResult.describe("Pass, Fail or Inconclusive."),
      message: z.string().max(1024).describe("Every failed check with its value and limit."),
    })
    .optional()
    .describe("The last analysis verdict."),
  lastCommand: z
    .string()
    .max(128)
    .optional()
    .describe("The last embedops.dev/rollout-command annotation acted on."),
});

export const ModelPhase = z.enum(["Pending", "Progressing", "Ready", "Degraded", "Failed"]);

export const EmbeddingModelStatus = z
  .strictObject({
    observedGeneration: z.number().int().min(0).optional().describe("metadata.generation last acted on."),
    conditions: Conditions.optional(),
    phase: ModelPhase.optional().describe("Summary for humans; automation should read conditions."),
    fingerprint: Fingerprint.optional().describe("Fingerprint of the stable encoder."),
    fingerprintShort: FingerprintShort.optional(),
    revision: z.string().max(64).optional().describe("Hash of the runtime spec the stable encoder runs."),
    replicas: z.number().int().min(0).optional().describe("Desired stable encoder pods."),
    readyReplicas: z.number().int().min(0).optional().describe("Ready stable encoder pods."),
    canary: CanaryStatus.optional().describe("The rollout in progress, or the last one."),
  })
  .describe("Observed state, written by the operator.");

export const EmbeddingModel = cel(
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal("EmbeddingModel"),
    metadata: ownerMeta,
    spec: EmbeddingModelSpec,
    status: EmbeddingModelStatus.optional(),
  }),
  [ownerNameRule("EmbeddingModel")],
);

export type EmbeddingModelSpec = z.output<typeof EmbeddingModelSpec>;
export type EmbeddingModelStatus = z.output<typeof EmbeddingModelStatus>;
export type CanaryStatus = z.output<typeof CanaryStatus>;
export type EmbeddingModel = z.output<typeof EmbeddingModel>;
/** What a user may write: defaulted fields optional. */
export type EmbeddingModelInput = z.input<typeof EmbeddingModel>;
