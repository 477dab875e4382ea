// Distances as hnswlib computes them, and the one score scale the router merges on.
//
// Decision: every score is HIGHER-IS-BETTER, whatever the metric, so the router can merge shard
// results with one comparator and never needs to know the metric:
//   cosine -> cosine similarity     = 1 - d   (hnswlib's cosine space is ip over normalised vectors)
//   ip     -> inner product         = 1 - d   (hnswlib's ip "distance" is 1 - <a,b>)
//   l2     -> negative squared L2   = -d      (hnswlib's l2 space returns the squared distance)
// `scoreKind` names the scale in every response so a client can turn it back into a distance.

export type Metric = "cosine" | "l2" | "ip";
export const metrics: readonly Metric[] = ["cosine", "l2", "ip"];

export type ScoreKind = "cosine_similarity" | "inner_product" | "negative_squared_l2";

export function scoreKind(metric: Metric): ScoreKind {
  switch (metric) {
    case "cosine":
      return "cosine_similarity";
    case "ip":
      return "inner_product";
    case "l2":
      return "negative_squared_l2";
  }
}

export function toScore(metric: Metric, distance: number): number {
  return metric === "l2" ? -distance : 1 - distance;
}

/** The distance hnswlib's space would compute; for cosine both inputs must already be normalised. */
export function distance(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let acc = 0;
  if (metric === "l2") {
    for (let i = 0; i < a.length; i++) {
      const d = (a[i] as number) - (b[i] as number);
      acc += d * d;
    }
    return acc;
  }
  for (let i = 0; i < a.length; i++) acc += (a[i] as number) * (b[i] as number);
  return 1 - acc;
}

export function norm(v: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < v.length; i++) acc += (v[i] as number) * (v[i] as number);
  return Math.sqrt(acc);
}

/** Same rule as hnswlib's normalizePoint (divide by norm + 1e-30), so exact and HNSW paths agree. */
export function normalized(v: ArrayLike<number>): Float64Array {
  const n = norm(v) + 1e-30;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / n;
  return out;
}

export interface Neighbor {
  label: number;
  distance: number;
}

/**
 * Exact top-k by distance (ascending) over candidates; used when a filter is so selective that a
 * graph walk would visit most of the graph anyway, and as the fallback that guarantees k results.
 */
export function exactTopK(
  metric: Metric,
  query: ArrayLike<number>,
  candidates: Iterable<{ label: number; vector: ArrayLike<number> }>,
  k: number,
): Neighbor[] {
  const q = metric === "cosine" ? normalized(query) : query;
  const all: Neighbor[] = [];
  for (const c of candidates) all.push({ label: c.label, distance: distance(metric, q, c.vector) });
  all.sort((x, y) => x.distance - y.distance || x.label - y.label);
  return all.slice(0, k);
}
