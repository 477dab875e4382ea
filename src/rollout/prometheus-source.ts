// The Prometheus HTTP API as a metric source for the rollout analysis: the I/O edge around the pure
// prometheus-api.ts. Each configured query of an SLO is rendered for one revision, asked as an
// instant query at the end of the analysis window, and the answers become a MetricWindow (metrics
// without a query come from the fallback window, the encoders' own /metrics).
import type { PrometheusSlo } from "../api/v1alpha1/index.js";
import type { MetricWindow } from "./analysis.js";
import {
  type PrometheusValues,
  parseQueryResult,
  prometheusQueryUrl,
  type QueryVars,
  renderQuery,
  windowFromPrometheus,
} from "./prometheus-api.js";

export interface PrometheusWindowInput {
  readonly slo: PrometheusSlo;
  readonly vars: QueryVars;
  /** End of the analysis window, Unix milliseconds. */
  readonly at: number;
  readonly fallback: MetricWindow;
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

/** A failed query: the message names the query, the server and what went wrong. */
export class PrometheusQueryError extends Error {
  override readonly name = "PrometheusQueryError";
}

async function instant(input: PrometheusWindowInput, query: string): Promise<number | undefined> {
  const rendered = renderQuery(query, input.vars);
  const url = prometheusQueryUrl(input.slo.url, rendered, input.at / 1000);
  const doFetch = input.fetchImpl ?? fetch;
  let body: unknown;
  try {
    const res = await doFetch(url, { signal: AbortSignal.timeout(input.timeoutMs ?? 5000) });
    body = await res.json();
  } catch (err) {
    throw new PrometheusQueryError(
      `Prometheus at ${input.slo.url} did not answer the query ${rendered}: ${String(err)}; ` +
        "check slo.prometheus.url and that the operator can reach it",
    );
  }
  const parsed = parseQueryResult(body);
  if (!parsed.ok) {
    throw new PrometheusQueryError(`the query ${rendered} failed at ${input.slo.url}: ${parsed.error}`);
  }
  return parsed.value;
}

/** The revision's window from the SLO's PromQL (queries run concurrently). */
export async function prometheusWindow(input: PrometheusWindowInput): Promise<MetricWindow> {
  const { slo } = input;
  const [requests, errorRate, p99Seconds] = await Promise.all([
    slo.requestsQuery !== undefined ? instant(input, slo.requestsQuery) : undefined,
    slo.errorRateQuery !== undefined ? instant(input, slo.errorRateQuery) : undefined,
    slo.p99LatencyQuery !== undefined ? instant(input, slo.p99LatencyQuery) : undefined,
  ]);
  const values: PrometheusValues = {
    ...(requests !== undefined ? { requests } : {}),
    ...(errorRate !== undefined ? { errorRate } : {}),
    ...(p99Seconds !== undefined ? { p99Seconds } : {}),
  };
  return windowFromPrometheus(slo, values, input.fallback);
}
