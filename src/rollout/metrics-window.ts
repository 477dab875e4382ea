// The data plane's own /metrics as a metric provider: two scrapes of one revision's pods (at the start
// and at the end of an analysis interval) become that revision's MetricWindow. The shell scrapes
// every pod of the revision, tags each pod's samples with `withLabels(samples, {pod})` so that series
// stay apart, and concatenates; series are differenced one by one (a restarted pod counts from zero,
// a new pod wholly) and then summed.
import type { MetricWindow } from "./analysis.js";
import {
  type Bucket,
  histogramCount,
  histogramDelta,
  histogramQuantile,
  sumHistograms,
} from "./histogram.js";
import { type Sample, seriesKey } from "./prometheus-text.js";

type Labels = Readonly<Record<string, string>>;

/** Which histogram measures a revision's requests, which series count, and which are errors. */
export interface RequestMetric {
  /** Histogram name without the _bucket suffix: the p99, and the counts unless `counter` is set. */
  readonly histogram: string;
  /**
   * A counter (full sample name) to take requests and errors from instead of the histogram, for
   * calls the histogram never sees (the router counts encoder calls it refused without sending them).
   */
  readonly counter?: string;
  readonly include: (labels: Labels) => boolean;
  readonly isError: (labels: Labels) => boolean;
}

/** The encoder's serving routes; probes, /info and /metrics are not traffic. */
export const ENCODER_ROUTES: ReadonlySet<string> = new Set(["/v1/embeddings", "/embeddings", "/embed"]);

/**
 * Errors are 5xx (the candidate broke) and 429 (it could not keep up: a slower candidate sheds load
 * before its p99 shows it). Other 4xx are the client's doing and count as served.
 */
export const isServerError = (labels: Labels): boolean => {
  const status = Number(labels["status"]);
  return status >= 500 || status === 429;
};

/**
 * src/encoder/metrics.ts: embedops_encoder_request_duration_seconds{route,status,revision}, scraped
 * from the encoder pods themselves. With `revision`, only that revision's series count (for shells
 * that scrape stable and candidate pods together); without, every series does.
 */
export function encoderRequests(revision?: string): RequestMetric {
  return {
    histogram: "embedops_encoder_request_duration_seconds",
    include: (labels) =>
      ENCODER_ROUTES.has(labels["route"] ?? "") &&
      (revision === undefined || labels["revision"] === revision),
    isError: isServerError,
  };
}

export const ENCODER_REQUESTS: RequestMetric = encoderRequests();

/** Router encoder-call outcomes that are the input's fault or success; every other one is the revision's error. */
const NOT_REVISION_ERRORS: ReadonlySet<string> = new Set(["ok", "client_error"]);

/**
 * src/router/metrics.ts: the router's calls to one encoder revision, as the router saw them
 * (embedops_router_encoder_calls_total{revision,kind,outcome} for counts, including calls refused
 * because the revision's /info did not confirm the fingerprint; the duration histogram for p99).
 * Closer to what clients feel than the encoder's own /metrics: it includes the network and queueing.
 */
export function routerEncoderCalls(revision: string): RequestMetric {
  return {
    histogram: "embedops_router_encoder_request_duration_seconds",
    counter: "embedops_router_encoder_calls_total",
    include: (labels) => labels["revision"] === revision,
    isError: (labels) => !NOT_REVISION_ERRORS.has(labels["outcome"] ?? ""),
  };
}

/**
 * src/router/metrics.ts: queries answered with one generation's fingerprint
 * (embedops_router_request_duration_seconds{route="/v1/query",status,fingerprint}).
 */
export function routerQueries(fingerprint: string): RequestMetric {
  return {
    histogram: "embedops_router_request_duration_seconds",
    include: (labels) => labels["route"] === "/v1/query" && labels["fingerprint"] === fingerprint,
    isError: isServerError,
  };
}

/** The same samples with extra labels, e.g. {pod: "em-encoder-5f3a-x7k2p"}, before concatenating pods. */
export function withLabels(samples: readonly Sample[], extra: Labels): Sample[] {
  return samples.map((s) => ({ ...s, labels: { ...s.labels, ...extra } }));
}

interface Series {
  readonly labels: Labels;
  readonly buckets: Bucket[];
}

function histogramSeries(samples: readonly Sample[], metric: RequestMetric): Map<string, Series> {
  const name = `${metric.histogram}_bucket`;
  const series = new Map<string, Series>();
  for (const s of samples) {
    if (s.name !== name || !metric.include(s.labels)) continue;
    const raw = s.labels["le"];
    const le = raw === "+Inf" ? Number.POSITIVE_INFINITY : Number(raw);
    if (raw === undefined || Number.isNaN(le)) continue;
    const key = seriesKey(s, ["le"]);
    const entry = series.get(key) ?? { labels: s.labels, buckets: [] };
    entry.buckets.push({ le, count: s.value });
    series.set(key, entry);
  }
  return series;
}

/**
 * What a revision served between two scrapes. `before` undefined (no baseline, e.g. right after an
 * operator restart) counts everything in `after`; callers that need an exact interval pass no
 * verdict instead (see state-machine.ts).
 */
export function requestWindow(
  before: readonly Sample[] | undefined,
  after: readonly Sample[],
  metric: RequestMetric = ENCODER_REQUESTS,
): MetricWindow {
  const then = before ? histogramSeries(before, metric) : new Map<string, Series>();
  let requests = 0;
  let errors = 0;
  const deltas: Bucket[][] = [];
  for (const [key, s] of histogramSeries(after, metric)) {
    const delta = histogramDelta(then.get(key)?.buckets, s.buckets);
    const n = histogramCount(delta);
    requests += n;
    if (metric.isError(s.labels)) errors += n;
    deltas.push(delta);
  }
  if (metric.counter !== undefined) {
    ({ requests, errors } = counterWindow(before, after, metric, metric.counter));
  }
  const observed = deltas.reduce((n, d) => n + histogramCount(d), 0);
  const p99Seconds = observed > 0 ? histogramQuantile(0.99, sumHistograms(deltas)) : undefined;
  return { requests, errors, ...(p99Seconds !== undefined ? { p99Ms: p99Seconds * 1000 } : {}) };
}

/** Requests and errors from a counter's per-series increases (a counter that went down restarted). */
function counterWindow(
  before: readonly Sample[] | undefined,
  after: readonly Sample[],
  metric: RequestMetric,
  counter: string,
): { requests: number; errors: number } {
  const matching = (samples: readonly Sample[]) =>
    samples.filter((s) => s.name === counter && metric.include(s.labels));
  const then = new Map(matching(before ?? []).map((s) => [seriesKey(s), s.value]));
  let requests = 0;
  let errors = 0;
  for (const s of matching(after)) {
    const previous = then.get(seriesKey(s));
    const n = previous === undefined || s.value < previous ? s.value : s.value - previous;
    requests += n;
    if (metric.isError(s.labels)) errors += n;
  }
  return { requests, errors };
}
