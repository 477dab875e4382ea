// The encoder's Prometheus metrics, on a Registry of its own (not prom-client's global one) so several
// servers in one process (tests, `embedops serve`) never collide.
import { Counter, collectDefaultMetrics, exponentialBuckets, Gauge, Histogram, Registry } from "prom-client";
import type { BatchObserver } from "./batcher.js";

export type RejectReason = "overloaded" | "unauthorized" | "invalid" | "too_large" | "not_ready";

export interface EncoderMetrics extends BatchObserver {
  registry: Registry;
  requestDuration: Histogram<"route" | "status">;
  embeddings: Counter;
  rejected: Counter<"reason">;
  inFlight: Gauge;
}

/** The revision label when the encoder is started without --revision. */
export const UNKNOWN_REVISION = "unknown";

/**
 * Request latency buckets with edges at 300 and 500 ms (and between), the usual canary SLOs, which
 * doubling buckets (256, 512 ms) cannot tell apart.
 */
const requestBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2, 5, 10, 20,
];

export interface EncoderMetricsOptions {
  /**
   * The encoder's revision (the operator passes the pod's runtime-spec hash), added as a `revision`
   * label to every series, so a canary's requests, errors and latencies are told apart from stable's.
   */
  revision?: string;
}

export function createEncoderMetrics(options: EncoderMetricsOptions = {}): EncoderMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ revision: options.revision ?? UNKNOWN_REVISION });
  collectDefaultMetrics({ register: registry, prefix: "embedops_" });
  const requestDuration = new Histogram({
    name: "embedops_encoder_request_duration_seconds",
    help: "HTTP request duration by route and status code (its _count is the request counter)",
    labelNames: ["route", "status"] as const,
    buckets: requestBuckets,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: "embedops_encoder_batch_size",
    help: "Inputs per engine batch",
    buckets: exponentialBuckets(1, 2, 10),
    registers: [registry],
  });
  const batchTokens = new Histogram({
    name: "embedops_encoder_batch_tokens",
    help: "Padded tokens per engine batch (rows x longest row)",
    buckets: exponentialBuckets(16, 2, 12),
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: "embedops_encoder_queue_depth",
    help: "Inputs waiting for a batch",
    registers: [registry],
  });
  const inference = new Histogram({
    name: "embedops_encoder_inference_duration_seconds",
    help: "Engine time per batch",
    buckets: exponentialBuckets(0.001, 2, 14),
    registers: [registry],
  });
  const embeddings = new Counter({
    name: "embedops_encoder_embeddings_total",
    help: "Embeddings computed",
    registers: [registry],
  });
  const rejected = new Counter({
    name: "embedops_encoder_rejected_total",
    help: "Requests refused, by reason",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "embedops_encoder_requests_in_flight",
    help: "Embedding requests admitted and not yet answered (the 429 limit counts these)",
    registers: [registry],
  });
  return {
    registry,
    inFlight,
    requestDuration,
    embeddings,
    rejected,
    batchDone({ inputs, paddedTokens, seconds }) {
      batchSize.observe(inputs);
      batchTokens.observe(paddedTokens);
      inference.observe(seconds);
      embeddings.inc(inputs);
    },
    queueDepth: (depth) => queueDepth.set(depth),
  };
}
