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

const promQl = (what: string) =>
  z.string().min(1).max(1024).optional().describe(`PromQL for ${what}; unset: the encoders' /metrics.`);

// Per metric, so a team can take only what its mesh measures better (e.g. latency at the client)
// from Prometheus and keep the rest from the encoders' own /metrics.
export const PrometheusSlo = cel(
  z
    .strictObject({
      url: z
        .string()
        .max(2048)
        .regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL")
        .describe("Base URL of the Prometheus HTTP API, e.g. http://prometheus.monitoring:9090."),
      p99LatencyQuery: promQl("the canary's p99 latency in seconds"),
      errorRateQuery: promQl("the canary's error ratio (0..1)"),
      requestsQuery: promQl("the canary's requests in the interval"),
    })
    .describe("Read SLO metrics from Prometheus. Queries may use $revision, $interval, $namespace, $name."),
  [
    {
      rule: "has(self.p99LatencyQuery) || has(self.errorRateQuery) || has(self.requestsQuery)",
      message: "slo.prometheus needs at least one of p99LatencyQuery, errorRateQuery, requestsQuery",
      check: (p) => [p.p99LatencyQuery, p.errorRateQuery, p.requestsQuery].some((q) => q !== undefined),
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
    maxLatencyIncreasePercent: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("A check fails when the canary's p99 is more than this percent above the stable's."),
    prometheus: PrometheusSlo.optional(),
  })
  .prefault({})
  .describe("Service levels a canary must hold at every check.");

// Low-traffic services would never reach minRequests: after an inconclusive check the operator (or
// serve) sends these to the candidate, so a rollout concludes instead of stalling.
export const ProbePolicy = z
  .strictObject({
    requests: z
      .number()
      .int()
      .min(0)
      .max(10000)
      .default(30)
      .describe("Synthetic requests per check once a check was inconclusive; 0: never probe."),
    texts: z
      .array(z.string().min(1).max(2048))
      .min(1)
      .max(200)
      .optional()
      .describe("Probe inputs where no golden set applies; default: built-in sentences."),
  })
  .prefault({})
  .describe("Probe traffic, so a canary with too few requests still concludes.");

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
  maxInconclusiveChecks: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(3)
    .describe("Pause once this many checks in a row were inconclusive, probe traffic included."),
  progressDeadlineSeconds: z
    .number()
    .int()
    .min(10)
    .max(86400)
    .default(600)
    .describe(
      "Seconds a new revision may take until all its pods are ready; then it is rolled back. " +
        "Pods that cannot start (image pull back-off, crash loop, bad config) roll it back at once.",
    ),
  slo: Slo,
  probe: ProbePolicy,
};

export const ModelRolloutPolicy = z
  .strictObject(rolloutPolicyShape)
  .prefault({})
  .describe("How a change that keeps the fingerprint (image, threads, batching) is canaried.");

/** The shared part alone: what the rollout core (src/rollout) reads. */
export const RolloutPolicy = z.strictObject(rolloutPolicyShape);

export type Slo = z.output<typeof Slo>;
export type PrometheusSlo = z.output<typeof PrometheusSlo>;
export type ProbePolicy = z.output<typeof ProbePolicy>;
export type RolloutPolicy = z.output<typeof RolloutPolicy>;
export type ModelRolloutPolicy = z.output<typeof ModelRolloutPolicy>;
