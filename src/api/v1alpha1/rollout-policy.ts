import { z } from "zod";
import { cel } from "./kube-extensions.js";

const MAX_STEPS = 10;

// CEL in Kubernetes has no index range over a list, so "strictly increasing" is spelled out pair by
// pair; maxItems keeps it short and within the cost budget.
const increasingRule = Array.from(
  { length: MAX_STEPS - 1 },
  (_, i) => `(self.size() <= ${i + 1} || self[${i}] < self[${i + 1}])`,
).join(" && ");

export const StepWeights = cel(
  z
    .array(z.number().int().min(1).max(99))
    .min(1)
    .max(MAX_STEPS)
    .default([10, 50])
    .describe("Canary traffic percentages, in order; 100 is reached by promotion."),
  [
    {
      rule: increasingRule,
      message: "stepWeights must be strictly increasing, e.g. [10, 50]",
      check: (w) => w.every((x, i) => i === 0 || (w[i - 1] ?? 0) < x),
    },
  ],
);

export const Slo = z
  .strictObject({
    maxP99LatencyMs: z
      .number()
      .int()
      .min(1)
      .max(600000)
      .default(500)
      .describe("A check fails when the canary's p99 latency exceeds this."),
    maxErrorRate: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .describe("A check fails when the canary's error ratio (0..1) exceeds this."),
    minRequests: z
      .number()
      .int()
      .min(0)
      .max(1000000)
      .default(20)
      .describe("A check with fewer canary requests is inconclusive: it neither passes nor fails."),
  })
  .prefault({})
  .describe("Service levels a canary must hold at every check.");

/** Fields shared by the rollout policies of EmbeddingModel and VectorIndex. */
export const rolloutPolicyShape = {
  analysisIntervalSeconds: z
    .number()
    .int()
    .min(10)
    .max(3600)
    .default(60)
    .describe("Seconds between analysis checks (and canary steps)."),
  stepWeights: StepWeights,
  maxFailedChecks: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(1)
    .describe("Roll back once this many checks have failed."),
  slo: Slo,
};

export const ModelRolloutPolicy = z
  .strictObject(rolloutPolicyShape)
  .prefault({})
  .describe("How a change that keeps the fingerprint (image, threads, batching) is canaried.");

export type Slo = z.output<typeof Slo>;
export type ModelRolloutPolicy = z.output<typeof ModelRolloutPolicy>;
