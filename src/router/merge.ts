// Merging each shard's top-k into the index's top-k. Pure, so its edge cases are table-tested.

/** "higher": a larger score is a better match (similarity); "lower": a smaller one is (distance). */
export type ScoreOrder = "higher" | "lower";

export interface ShardHit {
  id: string;
  score: number;
  /** null when the shard holds none for this point. */
  metadata?: Record<string, unknown> | null;
  text?: string | null;
}

export interface MergedHit extends ShardHit {
  shard: string;
}

export interface ShardHits {
  shard: string;
  results: readonly ShardHit[];
}

/**
 * The best `k` hits over all shards. An id seen more than once (a document left behind on an old
 * shard, or two replicas answering) appears once, with its best score. Ties are broken by id, then by
 * shard name, so the same inputs always give the same order whatever order the shards answered in.
 */
export function mergeTopK(lists: readonly ShardHits[], k: number, order: ScoreOrder): MergedHit[] {
  const better = (a: number, b: number) => (order === "higher" ? a > b : a < b);
  const best = new Map<string, MergedHit>();
  for (const list of lists) {
    for (const hit of list.results) {
      const seen = best.get(hit.id);
      const candidate: MergedHit = { ...hit, shard: list.shard };
      if (
        seen === undefined ||
        better(hit.score, seen.score) ||
        (hit.score === seen.score && list.shard < seen.shard)
      ) {
        best.set(hit.id, candidate);
      }
    }
  }
  const sign = order === "higher" ? -1 : 1;
  const all = [...best.values()].sort(
    (a, b) =>
      sign * (a.score - b.score) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
      (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0),
  );
  return all.slice(0, Math.max(0, k));
}
