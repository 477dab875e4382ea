// Stands in for the encoder pods of every revision of every model (revisions are keyed by model
// too: two models with the same spec have the same revision hash) (no pods run against a bare API server): what
// each revision's own Service would answer on /info and /metrics, as the operator's rollout I/O
// sees it. The test decides per revision: its fingerprint (default: one per model, so a runtime
// change is a traffic canary) and its latency (each /metrics scrape has served REQUESTS_PER_SCRAPE
// more requests since the last one, all fast or all slow).
import { createHash } from "node:crypto";
import type { FingerprintProbe } from "../../controllers/embedding-model/fingerprint-probe.js";
import type { MetricsScraper, ProbeSender } from "../../controllers/embedding-model/rollout-io.js";

export const REQUESTS_PER_SCRAPE = 50;
/** Histogram buckets of embedops_encoder_request_duration_seconds (a subset is enough here). */
const BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5];

/** idle: no client traffic at all; only the operator's probes are served (fast). */
export type Latency = "fast" | "slow" | "idle";
/** Where a request lands: fast 10-50 ms (p99 ≈ 50 ms), slow 1-2.5 s (p99 ≈ 2.5 s). */
const UPPER: Record<Exclude<Latency, "idle">, number> = { fast: 0.05, slow: 2.5 };

export const modelFingerprint = (model: string): string =>
  createHash("sha256").update(`model:${model}`).digest("hex");

export class EncoderStandIn {
  private readonly fingerprints = new Map<string, string>();
  private readonly latency = new Map<string, Latency>();
  /** Cumulative requests per revision, by bucket upper bound: what a /metrics text counts. */
  private readonly served = new Map<string, Map<number, number>>();
  readonly scrapes = new Map<string, number>();
  readonly probes = new Map<string, number>();

  setFingerprint(model: string, revision: string, fingerprint: string): void {
    this.fingerprints.set(`${model}/${revision}`, fingerprint);
  }
  setLatency(model: string, revision: string, latency: Latency): void {
    this.latency.set(`${model}/${revision}`, latency);
  }
  /** Probe requests a revision got, by `model/revision`. */
  probesOf(model: string, revision: string): number {
    return this.probes.get(`${model}/${revision}`) ?? 0;
  }

  readonly probe: FingerprintProbe = async (model, _namespace, revision) => ({
    fingerprint: (revision && this.fingerprints.get(`${model}/${revision}`)) ?? modelFingerprint(model),
    dimension: 384,
  });

  readonly scrape: MetricsScraper = async (model, _namespace, revision) => {
    const key = `${model}/${revision}`;
    this.scrapes.set(key, (this.scrapes.get(key) ?? 0) + 1);
    const latency = this.latency.get(key) ?? "fast";
    if (latency !== "idle") this.serve(key, UPPER[latency], REQUESTS_PER_SCRAPE);
    return metricsText(revision, this.served.get(key) ?? new Map());
  };

  /** A probe is a request like any other: the encoder counts it (fast). */
  readonly sendProbe: ProbeSender = async (model, _namespace, revision) => {
    const key = `${model}/${revision}`;
    this.probes.set(key, (this.probes.get(key) ?? 0) + 1);
    this.serve(key, UPPER.fast, 1);
  };

  private serve(key: string, upper: number, n: number): void {
    const counts = this.served.get(key) ?? new Map<number, number>();
    counts.set(upper, (counts.get(upper) ?? 0) + n);
    this.served.set(key, counts);
  }
}

/** The encoder's request histogram (src/encoder/metrics.ts) for one revision's 200s. */
function metricsText(revision: string, counts: ReadonlyMap<number, number>): string {
  const name = "embedops_encoder_request_duration_seconds";
  const labels = `route="/v1/embeddings",status="200",revision="${revision}"`;
  const lines = [`# HELP ${name} Request latency.`, `# TYPE ${name} histogram`];
  let total = 0;
  for (const le of BUCKETS) {
    total = [...counts].filter(([u]) => u <= le).reduce((n, [, c]) => n + c, 0);
    lines.push(`${name}_bucket{${labels},le="${le}"} ${total}`);
  }
  lines.push(`${name}_bucket{${labels},le="+Inf"} ${total}`);
  lines.push(`${name}_sum{${labels}} ${total * 0.03}`, `${name}_count{${labels}} ${total}`);
  return `${lines.join("\n")}\n`;
}
