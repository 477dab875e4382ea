// The Prometheus HTTP API as a metric provider, pure parts only: the shell fills in a query's
// placeholders, GETs `prometheusQueryUrl(...)`, and hands the JSON body to `parseQueryResult`.
// Units: p99LatencyQuery answers seconds (Prometheus' convention for *_seconds histograms),
// errorRateQuery a ratio 0..1, requestsQuery a count over the interval.
import type { PrometheusSlo } from "../api/v1alpha1/index.js";
import type { MetricWindow } from "./analysis.js";

export interface QueryVars {
  /** The revision the query is about (candidate or stable). */
  readonly revision: string;
  /** Length of the analysis interval in seconds; `$interval` becomes e.g. "60s". */
  readonly intervalSeconds: number;
  readonly namespace: string;
  /** The EmbeddingModel's (or VectorIndex's) name. */
  readonly name: string;
}

/**
 * `$revision`, `$interval`, `$namespace` and `$name` replaced; e.g.
 * `histogram_quantile(0.99, sum by (le) (rate(x_bucket{revision="$revision"}[$interval])))`.
 */
export function renderQuery(query: string, vars: QueryVars): string {
  const values: Record<string, string> = {
    revision: vars.revision,
    interval: `${Math.max(1, Math.round(vars.intervalSeconds))}s`,
    namespace: vars.namespace,
    name: vars.name,
  };
  return query.replace(/\$(revision|interval|namespace|name)\b/g, (_m, key: string) => values[key] ?? "");
}

/** GET URL of an instant query at `timeSeconds` (Unix seconds). */
export function prometheusQueryUrl(baseUrl: string, query: string, timeSeconds: number): string {
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}/api/v1/query`);
  url.searchParams.set("query", query);
  url.searchParams.set("time", String(timeSeconds));
  return url.toString();
}

export type QueryResult =
  | { readonly ok: true; readonly value: number | undefined }
  | { readonly ok: false; readonly error: string };

/**
 * The single number of an instant query's answer: a scalar, or a vector of exactly one sample.
 * An empty vector or NaN is "no data" (value undefined, which makes the check Inconclusive);
 * several series are an error, because summing them here would hide a query that forgot sum().
 */
export function parseQueryResult(body: unknown): QueryResult {
  const b = body as {
    status?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (b?.status !== "success") {
    return {
      ok: false,
      error: `Prometheus answered ${String(b?.status)}: ${String(b?.error ?? "no error text")}`,
    };
  }
  const { resultType, result } = b.data ?? {};
  // [time, "value"]; NaN and ±Inf (e.g. a ratio over no traffic) are no data.
  const number = (pair: unknown): QueryResult => {
    const text = Array.isArray(pair) ? pair[1] : undefined;
    if (typeof text !== "string") return { ok: false, error: "the sample has no [time, value] pair" };
    if (/^[+-]?(inf|nan)$/i.test(text)) return { ok: true, value: undefined };
    const v = Number(text);
    return Number.isFinite(v) ? { ok: true, value: v } : { ok: false, error: `"${text}" is not a number` };
  };
  if (resultType === "scalar") return number(result);
  if (resultType === "vector" && Array.isArray(result)) {
    if (result.length === 0) return { ok: true, value: undefined };
    if (result.length > 1) {
      return { ok: false, error: `the query returned ${result.length} series; wrap it in sum() to get one` };
    }
    return number((result[0] as { value?: unknown }).value);
  }
  return { ok: false, error: `expected a scalar or a vector, got ${String(resultType)}` };
}

/** What the Prometheus queries of one revision answered (undefined: not configured or no data). */
export interface PrometheusValues {
  readonly requests?: number;
  readonly errorRate?: number;
  readonly p99Seconds?: number;
}

/**
 * A MetricWindow from the configured queries, taking every metric without a query from `fallback`
 * (the encoders' /metrics). No data has a meaning per metric: no requests is 0 requests
 * (Inconclusive), no error ratio is no errors (a ratio over a rate of 5xx is empty when there were
 * none), no p99 stays undefined so the p99 check is Inconclusive rather than passing blind.
 */
export function windowFromPrometheus(
  slo: PrometheusSlo,
  values: PrometheusValues,
  fallback: MetricWindow,
): MetricWindow {
  const requests = slo.requestsQuery !== undefined ? (values.requests ?? 0) : fallback.requests;
  const fallbackRate = fallback.requests > 0 ? fallback.errors / fallback.requests : 0;
  const errors =
    slo.errorRateQuery !== undefined
      ? (values.errorRate ?? 0) * requests
      : slo.requestsQuery !== undefined
        ? fallbackRate * requests
        : fallback.errors;
  const p99Ms =
    slo.p99LatencyQuery !== undefined
      ? values.p99Seconds === undefined
        ? undefined
        : values.p99Seconds * 1000
      : fallback.p99Ms;
  return { requests, errors, ...(p99Ms !== undefined ? { p99Ms } : {}) };
}
