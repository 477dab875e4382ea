// Pure statistics and formatting shared by every benchmark. No I/O here, so the unit tests cover it.

/**
 * The q-quantile (0..1) of `sorted` (ascending) by linear interpolation between closest ranks — the
 * same definition as numpy's default, so a report can be checked against a Python recomputation.
 */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Summary of latencies given in milliseconds; NaN fields when there are none. */
export function summarizeLatencies(samplesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samplesMs).sort();
  const arr = Array.from(sorted);
  let sum = 0;
  for (const v of arr) sum += v;
  return {
    count: arr.length,
    meanMs: arr.length === 0 ? Number.NaN : sum / arr.length,
    p50Ms: quantileSorted(arr, 0.5),
    p95Ms: quantileSorted(arr, 0.95),
    p99Ms: quantileSorted(arr, 0.99),
    maxMs: arr.length === 0 ? Number.NaN : arr[arr.length - 1]!,
  };
}

export interface RatioVerdict {
  ratio: number;
  target: number;
  met: boolean;
  /** e.g. "0.93 (target ≥ 0.90): met". */
  text: string;
}

/** numerator / denominator judged against `target` (met when ratio ≥ target); NaN when either is missing. */
export function ratioVerdict(
  numerator: number | undefined,
  denominator: number | undefined,
  target: number,
): RatioVerdict {
  const ok =
    numerator !== undefined &&
    denominator !== undefined &&
    Number.isFinite(numerator) &&
    Number.isFinite(denominator) &&
    denominator > 0;
  const ratio = ok ? numerator / denominator : Number.NaN;
  const met = ok && ratio >= target;
  const shown = ok ? formatRatio(ratio) : "n/a";
  const verdict = ok ? (met ? "met" : "missed") : "not measured";
  return { ratio, target, met, text: `${shown} (target ≥ ${formatRatio(target)}): ${verdict}` };
}

/** Two decimals below 10, one below 100, none above: enough to compare, no false precision. */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return "n/a";
  const a = Math.abs(r);
  if (a < 10) return r.toFixed(2);
  if (a < 100) return r.toFixed(1);
  return r.toFixed(0);
}

/** A rate or duration for a table: 3 significant digits, no exponent, "–" when missing. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toString();
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
