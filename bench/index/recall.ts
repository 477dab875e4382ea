// Pure helpers for the index benchmark: recall against exact neighbours, and reading a recall/QPS
// curve at a target recall. Unit-tested in test/unit/bench/index-recall.test.ts.

/** Mean recall@k: the share of each query's true top-k ids found in its returned top-k. */
export function meanRecall(
  found: readonly (readonly number[])[],
  truth: readonly (readonly number[])[],
  k: number,
): number {
  if (found.length !== truth.length)
    throw new Error(`recall: ${found.length} answers for ${truth.length} queries`);
  if (truth.length === 0) return Number.NaN;
  let sum = 0;
  for (let q = 0; q < truth.length; q++) {
    const want = new Set(truth[q]!.slice(0, k));
    let hit = 0;
    for (const id of found[q]!.slice(0, k)) if (want.has(id)) hit++;
    sum += hit / Math.min(k, want.size || k);
  }
  return sum / truth.length;
}

export interface CurvePoint {
  ef: number;
  recall: number;
  qps: number;
}

export interface AtRecall {
  /** QPS at exactly the target, linearly interpolated between the two ef points around it. */
  qps: number | undefined;
  /** How it was read: "interpolated", "lowest-ef" (every point is above target: the fastest one), or "unreached". */
  method: "interpolated" | "lowest-ef" | "unreached";
  /** The smallest swept ef whose recall reaches the target, and its QPS (the conservative reading). */
  nearestEf: number | undefined;
  nearestQps: number | undefined;
}

/**
 * QPS of a curve at `target` recall. Points are sorted by ef; noise can make recall non-monotone, so
 * the first ef reaching the target decides, interpolated with the point before it. When even the
 * smallest ef is above target, the curve is faster at the target than we measured: report that point
 * (a lower bound) rather than extrapolate.
 */
export function qpsAtRecall(points: readonly CurvePoint[], target: number): AtRecall {
  const sorted = [...points].sort((a, b) => a.ef - b.ef);
  const i = sorted.findIndex((p) => p.recall >= target);
  if (i < 0) return { qps: undefined, method: "unreached", nearestEf: undefined, nearestQps: undefined };
  const hit = sorted[i]!;
  if (i === 0) return { qps: hit.qps, method: "lowest-ef", nearestEf: hit.ef, nearestQps: hit.qps };
  const prev = sorted[i - 1]!;
  const span = hit.recall - prev.recall;
  const t = span > 0 ? (target - prev.recall) / span : 1;
  return {
    qps: prev.qps + (hit.qps - prev.qps) * t,
    method: "interpolated",
    nearestEf: hit.ef,
    nearestQps: hit.qps,
  };
}

/** Indices of `count` held-out queries spread evenly over `total` items (deterministic). */
export function heldOutIndices(total: number, count: number): number[] {
  if (count > total) throw new Error(`cannot hold out ${count} of ${total}`);
  const out: number[] = [];
  const step = total / count;
  for (let i = 0; i < count; i++) out.push(Math.floor(i * step + step / 2));
  return out;
}
