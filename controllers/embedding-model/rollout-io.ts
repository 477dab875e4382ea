// The rollout's I/O for the Kubernetes shell: the metric window of one analysis interval (two
// scrapes of a revision's own Service, or Prometheus), and probe traffic. The decisions stay in
// src/rollout (pure); this file only fetches. Every call has a timeout: a reconcile never waits
// long on an encoder, and probes are never awaited.
import type { EmbeddingModelSpec } from "../../src/api/v1alpha1/index.js";
import { encoderRevisionUrl } from "../../src/builders/encoder-service.js";
import { describeError } from "../../src/kube/errors.js";
import { analyze, type MetricWindow, type Verdict } from "../../src/rollout/analysis.js";
import { encoderRequests, requestWindow } from "../../src/rollout/metrics-window.js";
import { prometheusWindow } from "../../src/rollout/prometheus-source.js";
import { parsePrometheusText, type Sample } from "../../src/rollout/prometheus-text.js";

/** GET /metrics of one encoder revision (through its own Service); the text body. */
export type MetricsScraper = (model: string, namespace: string, revision: string) => Promise<string>;

/** POST one probe request with `texts` to one revision; resolves whatever the outcome. */
export type ProbeSender = (
  model: string,
  namespace: string,
  revision: string,
  texts: string[],
) => Promise<void>;

export const SCRAPE_TIMEOUT_MS = 3000;
export const PROBE_TIMEOUT_MS = 5000;

export function httpMetricsScraper(
  timeoutMs = SCRAPE_TIMEOUT_MS,
  urlOf: (model: string, revision: string, namespace: string) => string = encoderRevisionUrl,
): MetricsScraper {
  return async (model, namespace, revision) => {
    const url = `${urlOf(model, revision, namespace)}/metrics`;
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`GET ${url} answered HTTP ${res.status}`);
    }
    return res.text();
  };
}

/**
 * OpenAI-style POST /v1/embeddings. With the model's authSecretRef the encoder answers 401 (the
 * operator reads no Secret's data): such a model needs real traffic to conclude a check.
 */
export function httpProbeSender(
  timeoutMs = PROBE_TIMEOUT_MS,
  urlOf: (model: string, revision: string, namespace: string) => string = encoderRevisionUrl,
): ProbeSender {
  return async (model, namespace, revision, texts) => {
    try {
      const res = await fetch(`${urlOf(model, revision, namespace)}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input: texts, model }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
    } catch {
      // A probe that fails is counted by the encoder (or not at all); nothing to do here.
    }
  };
}

/**
 * The previous scrape per model and revision: the baseline of the next window. In memory only: a
 * restarted operator has none, passes no verdict, and the state machine starts the window again.
 */
export class ScrapeBaselines {
  private readonly last = new Map<string, readonly Sample[]>();
  private key = (ns: string, model: string, revision: string) => `${ns}/${model}/${revision}`;

  get(ns: string, model: string, revision: string): readonly Sample[] | undefined {
    return this.last.get(this.key(ns, model, revision));
  }
  set(ns: string, model: string, revision: string, samples: readonly Sample[]): void {
    this.last.set(this.key(ns, model, revision), samples);
  }
  /** Forget every revision of a model not in `keep` (a finished rollout's revisions). */
  retain(ns: string, model: string, keep: readonly string[]): void {
    const prefix = this.key(ns, model, "");
    for (const k of this.last.keys()) {
      if (k.startsWith(prefix) && !keep.includes(k.slice(prefix.length))) this.last.delete(k);
    }
  }
}

export interface AnalysisIo {
  readonly scrape: MetricsScraper;
  /** How the Prometheus HTTP API is called (src/rollout/prometheus-source.ts); default fetch. */
  readonly fetchPrometheus?: typeof fetch;
  readonly baselines: ScrapeBaselines;
}

export interface IntervalTarget {
  readonly model: string;
  readonly namespace: string;
  readonly spec: EmbeddingModelSpec;
  readonly candidate: string;
  readonly stable: string;
  readonly weight: number;
  /** The interval the verdict covers (analysisWindow). */
  readonly window: { readonly fromMs: number; readonly toMs: number };
}

/** One revision's window: the /metrics delta since the baseline (undefined: no baseline yet). */
async function scrapeWindow(
  io: AnalysisIo,
  t: IntervalTarget,
  revision: string,
): Promise<MetricWindow | undefined> {
  const samples = parsePrometheusText(await io.scrape(t.model, t.namespace, revision));
  const before = io.baselines.get(t.namespace, t.model, revision);
  io.baselines.set(t.namespace, t.model, revision, samples);
  return before === undefined ? undefined : requestWindow(before, samples, encoderRequests(revision));
}

/** Takes the baseline of a window that starts now (a new step, or a restarted window). */
export async function startWindow(io: AnalysisIo, t: IntervalTarget): Promise<void> {
  for (const revision of [t.candidate, t.stable]) {
    try {
      io.baselines.set(
        t.namespace,
        t.model,
        revision,
        parsePrometheusText(await io.scrape(t.model, t.namespace, revision)),
      );
    } catch {
      // No baseline: the next check passes no verdict and the window starts again.
    }
  }
}

/** A revision's window from the SLO's PromQL, the encoders' /metrics filling in what has no query. */
function fromPrometheus(io: AnalysisIo, t: IntervalTarget, revision: string, fallback: MetricWindow) {
  const slo = t.spec.rollout.slo.prometheus;
  if (!slo) return Promise.resolve(fallback);
  return prometheusWindow({
    slo,
    vars: {
      revision,
      intervalSeconds: (t.window.toMs - t.window.fromMs) / 1000,
      namespace: t.namespace,
      name: t.model,
    },
    at: t.window.toMs,
    fallback,
    timeoutMs: SCRAPE_TIMEOUT_MS,
    ...(io.fetchPrometheus ? { fetchImpl: io.fetchPrometheus } : {}),
  });
}

/**
 * The verdict of the interval that ends now, or undefined when there is no baseline (after a
 * restart): the state machine then starts the window again. A candidate whose metrics cannot be
 * read is Inconclusive (not Pass): enough of those in a row pause the rollout.
 */
export async function intervalVerdict(
  io: AnalysisIo,
  t: IntervalTarget,
): Promise<Pick<Verdict, "result" | "message"> | undefined> {
  const slo = t.spec.rollout.slo;
  const needStable = slo.maxLatencyIncreasePercent !== undefined;
  try {
    const [candidate, stable] = await Promise.all([
      scrapeWindow(io, t, t.candidate).catch((err: unknown) => {
        // Without Prometheus the encoders' /metrics are the only source; with it, the fallback only.
        if (!slo.prometheus) throw err;
        return undefined;
      }),
      needStable ? scrapeWindow(io, t, t.stable).catch(() => undefined) : Promise.resolve(undefined),
    ]);
    const empty: MetricWindow = { requests: 0, errors: 0 };
    if (slo.prometheus) {
      const [c, s] = await Promise.all([
        fromPrometheus(io, t, t.candidate, candidate ?? empty),
        needStable ? fromPrometheus(io, t, t.stable, stable ?? empty) : Promise.resolve(undefined),
      ]);
      return analyze({ slo, candidate: c, ...(s ? { stable: s } : {}), weight: t.weight });
    }
    if (candidate === undefined) return undefined;
    return analyze({ slo, candidate, ...(stable ? { stable } : {}), weight: t.weight });
  } catch (err) {
    return {
      result: "Inconclusive",
      message: `the candidate's metrics could not be read at weight ${t.weight}%: ${describeError(err)}`,
    };
  }
}
