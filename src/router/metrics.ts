// The router's Prometheus metrics, in their own Registry with the embedops_router_ prefix. One
// registry per router instance, so several routers in one process (benchmarks, tests) never collide.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const latencyBuckets = [
  0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1, 2, 5, 10,
];

/**
 * Encoder calls take milliseconds to a second; a canary's latency SLO is typically 300 or 500 ms,
 * so the buckets have edges at both (and between them), which the doubling buckets above lack.
 */
export const encoderLatencyBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10,
];

/**
 * Outcomes of one embedding call to one encoder revision. "mismatch" and "unavailable" are calls the
 * router did not send because the revision's /info did not confirm the generation's fingerprint.
 * Everything but "ok" and "client_error" (the input's fault) is the revision's error.
 */
export type EncoderOutcome =
  | "ok"
  | "error"
  | "timeout"
  | "busy"
  | "client_error"
  | "mismatch"
  | "unavailable";

export function createRouterMetrics(defaultMetrics = false) {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "embedops_router_" });
  const metrics = {
    registry,
    requestDuration: new Histogram({
      name: "embedops_router_request_duration_seconds",
      help:
        "Router HTTP request duration by route, status and index generation with its model fingerprint: the " +
        "generation that answered a query, the active one for every other request",
      labelNames: ["route", "status", "fingerprint", "generation"] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    shardRequestDuration: new Histogram({
      name: "embedops_router_shard_request_duration_seconds",
      help: "Duration of successful shard replica calls",
      labelNames: ["shard", "replica", "op"] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    fanoutDuration: new Histogram({
      name: "embedops_router_fanout_duration_seconds",
      help: "Time from the first shard call to the last shard answer of one query, by the generation queried",
      labelNames: ["fingerprint", "generation"] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    encoderDuration: new Histogram({
      name: "embedops_router_encoder_request_duration_seconds",
      help:
        "Duration of encoder embedding calls sent, by text kind, encoder revision and outcome (see " +
        "embedops_router_encoder_calls_total, which also counts the calls a revision's /info check refused)",
      labelNames: ["kind", "revision", "outcome", "generation"] as const,
      buckets: encoderLatencyBuckets,
      registers: [registry],
    }),
    encoderCalls: new Counter({
      name: "embedops_router_encoder_calls_total",
      help:
        "Encoder embedding calls by revision, text kind and outcome (ok, error, timeout, busy, client_error; " +
        "mismatch and unavailable: not sent, the revision's /info did not confirm the fingerprint), by the " +
        "index generation the texts were embedded for",
      labelNames: ["revision", "kind", "outcome", "generation"] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: "embedops_router_errors_total",
      help: "Failed upstream calls by shard (or 'encoder') and reason",
      labelNames: ["shard", "reason"] as const,
      registers: [registry],
    }),
    hedges: new Counter({
      name: "embedops_router_hedges_total",
      help: "Hedged (second) shard queries sent because the first replica was slower than the shard's p95",
      labelNames: ["shard"] as const,
      registers: [registry],
    }),
    partialResponses: new Counter({
      name: "embedops_router_partial_responses_total",
      help: "Queries answered with allowPartial while some shards were missing",
      registers: [registry],
    }),
    replicaLive: new Gauge({
      name: "embedops_router_replica_live",
      help: "1 when the router considers the replica live",
      labelNames: ["shard", "replica"] as const,
      registers: [registry],
    }),
    replicasLagging: new Gauge({
      name: "embedops_router_replicas_lagging",
      help: "Replicas of the shard that missed a write another replica committed and are not yet repaired (written to, not queried)",
      labelNames: ["generation", "shard"] as const,
      registers: [registry],
    }),
    replicaRepairs: new Counter({
      name: "embedops_router_replica_repairs_total",
      help:
        "Catch-ups of lagging replicas by outcome: repaired (in sync, queried again), failed (retried with backoff), " +
        "restarted (a write was missed during it, or it did not cover this router's misses)",
      labelNames: ["generation", "shard", "outcome"] as const,
      registers: [registry],
    }),
    encoderFingerprintMatch: new Gauge({
      name: "embedops_router_encoder_fingerprint_match",
      help: "1 when the encoder revision's fingerprint equals the generation's; 0 on mismatch or when unknown",
      labelNames: ["fingerprint", "revision"] as const,
      registers: [registry],
    }),
    configReloads: new Counter({
      name: "embedops_router_config_reloads_total",
      help: "Config file reloads by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
  };
  return metrics;
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
