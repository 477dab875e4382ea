// The stable's p99 over one window, from two scrapes of latencyGuard.metricsUrl: the router's view of
// its encoder calls (embedops_router_encoder_request_duration_seconds, what clients feel) when the
// endpoint is a router's, else the encoder's own embedops_encoder_request_duration_seconds. The
// histogram math is the rollout analysis's (src/rollout), so both read p99 the same way.
import { encoderRequests, type RequestMetric, requestWindow } from "../rollout/metrics-window.js";
import type { Sample } from "../rollout/prometheus-text.js";

const ROUTER_HISTOGRAM = "embedops_router_encoder_request_duration_seconds";

/** Which histogram to read from a scrape, and which of its series belong to the stable. */
export function stableMetric(samples: readonly Sample[], revision: string | undefined): RequestMetric {
  const fromRouter = samples.some((s) => s.name === `${ROUTER_HISTOGRAM}_bucket`);
  if (!fromRouter) return encoderRequests(revision);
  return {
    histogram: ROUTER_HISTOGRAM,
    include: (labels) => revision === undefined || labels["revision"] === revision,
    isError: (labels) => labels["outcome"] !== "ok" && labels["outcome"] !== "client_error",
  };
}

/** p99 in ms between two scrapes; undefined when the stable served nothing in between. */
export function stableP99Ms(
  before: readonly Sample[] | undefined,
  after: readonly Sample[],
  revision: string | undefined,
): number | undefined {
  return requestWindow(before, after, stableMetric(after, revision)).p99Ms;
}
