// The router's Prometheus metrics, in their own Registry with the embedops_router_ prefix. One
// registry per router instance, so several routers in one process (benchmarks, tests) never collide.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const latencyBuckets = [
  0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1, 2, 5, 10,
];

export function createRouterMetrics(defaultMetrics = false) {
  const registry = new Registry();
  if (defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "embedops_router_" });
  const metrics = {
    registry,
    requestDuration: new Histogram({
      name: "embedops_router_request_duration_seconds",
      help: "Router HTTP request duration by route, status and the generation's model fingerprint",
      labelNames: ["route", "status", "fingerprint"] as const,
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
      help: "Time from the first shard call to the last shard answer of one query",
      labelNames: ["fingerprint"] as const,
      buckets: latencyBuckets,
      registers: [registry],
    }),
    encoderDuration: new Histogram({
      name: "embedops_router_encoder_request_duration_seconds",
      help: "Duration of encoder embedding calls",
      labelNames: ["kind"] as const,
      buckets: latencyBuckets,
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
    encoderFingerprintMatch: new Gauge({
      name: "embedops_router_encoder_fingerprint_match",
      help: "1 when the encoder's fingerprint equals the generation's; 0 on mismatch or when unknown",
      labelNames: ["fingerprint"] as const,
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
