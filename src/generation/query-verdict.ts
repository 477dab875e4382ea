// The generation canary's check, pure and shared by both shells: the queries N+1 answered (with the
// candidate encoder) against those N answered, between two scrapes of the routers' /metrics
// (embedops_router_request_duration_seconds by fingerprint), judged by the rollout's SLO.
import type { Slo } from "../api/v1alpha1/index.js";
import { analyze, type Verdict } from "../rollout/analysis.js";
import { requestWindow, routerQueries } from "../rollout/metrics-window.js";
import type { Sample } from "../rollout/prometheus-text.js";

export interface QueryCanary {
  readonly slo: Pick<Slo, "maxP99LatencyMs" | "maxErrorRate" | "minRequests" | "maxLatencyIncreasePercent">;
  readonly candidateFingerprint: string;
  readonly activeFingerprint: string;
  /** N+1's percent of queries. */
  readonly weight: number;
}

export function queryVerdict(
  c: QueryCanary,
  before: readonly Sample[],
  after: readonly Sample[],
): Pick<Verdict, "result" | "message"> {
  const v = analyze({
    slo: c.slo,
    candidate: requestWindow(before, after, routerQueries(c.candidateFingerprint)),
    stable: requestWindow(before, after, routerQueries(c.activeFingerprint)),
    weight: c.weight,
  });
  return { result: v.result, message: v.message };
}
