// Prometheus histogram math for the rollout analysis: the increase of a cumulative histogram between
// two scrapes, and a quantile of it the way PromQL's histogram_quantile computes one.

/** One cumulative bucket: `count` observations were <= `le` (seconds for our *_seconds metrics). */
export interface Bucket {
  readonly le: number;
  readonly count: number;
}

/** Buckets sorted by bound; the last one must be +Inf to describe a whole histogram. */
export type Histogram = readonly Bucket[];

const byBound = (h: Histogram): Bucket[] => [...h].sort((a, b) => a.le - b.le);

/** Total observations: the +Inf bucket's count, 0 for an empty or incomplete histogram. */
export function histogramCount(h: Histogram): number {
  const inf = h.find((b) => b.le === Number.POSITIVE_INFINITY);
  return inf?.count ?? 0;
}

/**
 * What was observed between two scrapes of the same series: `after - before` per bucket.
 * Like PromQL's increase(), a counter that went down means the process restarted: the whole of
 * `after` is then new. A missing `before` (a series that appeared, e.g. a new pod) and a changed
 * bucket layout count the same way.
 */
export function histogramDelta(before: Histogram | undefined, after: Histogram): Bucket[] {
  const now = byBound(after);
  if (before === undefined) return now;
  const then = byBound(before);
  const sameLayout = then.length === now.length && then.every((b, i) => b.le === now[i]?.le);
  if (!sameLayout || then.some((b, i) => (now[i]?.count ?? 0) < b.count)) return now;
  return now.map((b, i) => ({ le: b.le, count: b.count - (then[i]?.count ?? 0) }));
}

/** Per-bound sum of several histograms with the same layout (pods of one revision); others are skipped. */
export function sumHistograms(histograms: readonly Histogram[]): Bucket[] {
  const total = new Map<number, number>();
  for (const h of histograms) for (const b of h) total.set(b.le, (total.get(b.le) ?? 0) + b.count);
  return [...total.entries()].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/**
 * The q-quantile (0 <= q <= 1) of a cumulative histogram, by linear interpolation inside the bucket
 * the rank falls in, as Prometheus' histogram_quantile does. Edge cases, the same as PromQL's:
 * - no observations, no +Inf bucket or fewer than two buckets: undefined (PromQL: NaN);
 * - the rank falls in the +Inf bucket: the highest finite bound (the histogram cannot say more);
 * - the rank falls in the first bucket: interpolated from 0 (from its bound when that is <= 0);
 * - bucket counts that decrease with the bound (scrape races) are raised to be monotonic first.
 * q outside [0, 1] is a programming error and throws.
 */
export function histogramQuantile(q: number, h: Histogram): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1], got ${q}`);
  const buckets = byBound(h);
  const last = buckets[buckets.length - 1];
  if (buckets.length < 2 || last === undefined || last.le !== Number.POSITIVE_INFINITY) return undefined;
  let running = 0;
  const counts = buckets.map((b) => {
    running = Math.max(running, b.count);
    return running;
  });
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return undefined;

  const rank = q * total;
  let i = counts.findIndex((c) => c >= rank);
  if (i < 0) i = counts.length - 1;
  if (i === buckets.length - 1) return buckets[buckets.length - 2]?.le;
  const upper = buckets[i]?.le ?? 0;
  if (i === 0 && upper <= 0) return upper;
  const lower = i === 0 ? 0 : (buckets[i - 1]?.le ?? 0);
  const below = i === 0 ? 0 : (counts[i - 1] ?? 0);
  const inBucket = (counts[i] ?? 0) - below;
  // q = 0 with empty leading buckets lands on a bucket whose share is 0: its lower bound, as PromQL.
  if (inBucket <= 0) return lower;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}
