// When to rebuild the graph without its tombstones, and how much room to make when it fills up.

export interface CompactionPolicy {
  /** Rebuild only once at least this many elements are marked deleted (small rebuilds are noise). */
  readonly minDeleted: number;
  /** ... and they are at least this fraction of the graph (searches still walk deleted nodes). */
  readonly maxDeletedFraction: number;
}

export const defaultCompactionPolicy: CompactionPolicy = { minDeleted: 1000, maxDeletedFraction: 0.25 };

export function shouldCompact(
  state: { deleted: number; total: number },
  policy: CompactionPolicy = defaultCompactionPolicy,
): boolean {
  if (state.total <= 0 || state.deleted < policy.minDeleted) return false;
  return state.deleted / state.total >= policy.maxDeletedFraction;
}

/** Initial room for a fresh graph; small shards start small because hnswlib preallocates all of it. */
export const minCapacity = 1024;

/**
 * The capacity to resize to so `needed` elements fit. Grows by 1.5x (not exactly to `needed`) because
 * every resizeIndex reallocates and copies the whole level-0 array.
 */
export function nextCapacity(current: number, needed: number): number {
  if (needed <= current) return current;
  return Math.max(needed, Math.ceil(current * 1.5), minCapacity);
}
