// Stands in for the encoder pods of every revision (no pods run against a bare API server): what
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

export type Latency = "fast" | "slow";
/** Where a request lands: fast 10-50 ms (p99 ≈ 50 ms), slow 1-2.5 s (p99 ≈ 2.5 s). */
const UPPER: Record<Latency, number> = { fast: 0.05, slow: 2.5 };

export const modelFingerprint = (model: string): string =>
  createHash("sha256").update(`model:${model}`).digest("hex");

export class EncoderStandIn {
  private readonly fingerprints = new Map<string, string>();
  private readonly latency = new Map<string, Latency>();
  /** Cumulative requests per revision, by bucket upper bound: what a /metrics text counts. */
  private readonly served = new Map<string, Map<number, number>>();
  readonly scrapes = new Map<string, number>();
  readonly probes = new Map<string, number>();

  setFingerprint(revision: string, fingerprint: string): void {
    this.fingerprints.set(revision, fingerprint);
  }
  setLatency(revision: string, latency: Latency): void {
    this.latency.set(revision, latency);
  }

  readonly probe: FingerprintProbe = async (model, _namespace, revision) => ({
    fingerprint: (revision && this.fingerprints.get(revision)) ?? modelFingerprint(model),
    dimension: 384,
  });

  readonly scrape: MetricsScraper = async (_model, _namespace, revision) => {
    this.scrapes.set(revision, (this.scrapes.get(revision) ?? 0) + 1);
    const counts = this.served.get(revision) ?? new Map<number, number>();
    const upper = UPPER[this.latency.get(revision) ?? "fast"];
    counts.set(upper, (counts.get(upper) ?? 0) + REQUESTS_PER_SCRAPE);
    this.served.set(revision, counts);
    return metricsText(revision, counts);
  };

  readonly sendProbe: ProbeSender = async (_model, _namespace, revision) => {
    this.probes.set(revision, (this.probes.get(revision) ?? 0) + 1);
  };
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
