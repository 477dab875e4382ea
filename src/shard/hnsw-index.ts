// A thin wrapper over hnswlib-node's HierarchicalNSW that remembers what the native index does not
// tell JavaScript: which labels are in the graph and which of them are marked deleted (markDelete on
// an unknown or already deleted label throws), and grows the capacity before it runs out.
import hnswlib from "hnswlib-node";
import { minCapacity, nextCapacity } from "./compaction.js";
import type { Metric } from "./score.js";

export interface HnswParams {
  dimension: number;
  metric: Metric;
  m: number;
  efConstruction: number;
  efSearch: number;
}

export class HnswIndex {
  private readonly native: hnswlib.HierarchicalNSW;
  /** Labels present in the graph and marked deleted. */
  private readonly deletedLabels = new Set<number>();
  /** Labels present in the graph (live or deleted). */
  private readonly present = new Set<number>();
  private capacity: number;
  /** The ef last given to the native index: setEf only when a query asks for another one. */
  private ef = -1;

  private constructor(
    readonly params: HnswParams,
    native: hnswlib.HierarchicalNSW,
    capacity: number,
  ) {
    this.native = native;
    this.capacity = capacity;
  }

  static create(params: HnswParams, capacity: number): HnswIndex {
    const native = new hnswlib.HierarchicalNSW(params.metric, params.dimension);
    const cap = Math.max(capacity, minCapacity);
    native.initIndex({
      maxElements: cap,
      m: params.m,
      efConstruction: params.efConstruction,
      randomSeed: 100,
    });
    native.setEf(params.efSearch);
    return new HnswIndex(params, native, cap);
  }

  /**
   * Load a checkpoint. `isLive` says which labels the database holds live: every other label in the
   * file is (re)marked deleted, so deletes that happened after the checkpoint are applied here.
   */
  static async load(
    params: HnswParams,
    file: string,
    isLive: (label: number) => boolean,
  ): Promise<HnswIndex> {
    const native = new hnswlib.HierarchicalNSW(params.metric, params.dimension);
    await native.readIndex(file);
    native.setEf(params.efSearch);
    const index = new HnswIndex(params, native, native.getMaxElements());
    for (const label of native.getIdsList()) {
      index.present.add(label);
      if (isLive(label)) continue;
      try {
        native.markDelete(label);
      } catch (err) {
        // Already marked deleted in the checkpoint: that is the state we want.
        if (!/already deleted/.test((err as Error).message)) throw err;
      }
      index.deletedLabels.add(label);
    }
    return index;
  }

  /** Insert, or update in place (hnswlib re-links an existing label and clears its deleted mark). */
  upsert(label: number, vector: ArrayLike<number>): void {
    if (!this.present.has(label)) this.reserve(this.present.size + 1);
    // hnswlib-node accepts only number[]; Array.from is one allocation of dim doubles.
    this.native.addPoint(Array.from(vector), label);
    this.present.add(label);
    this.deletedLabels.delete(label);
  }

  remove(label: number): boolean {
    if (!this.present.has(label) || this.deletedLabels.has(label)) return false;
    this.native.markDelete(label);
    this.deletedLabels.add(label);
    return true;
  }

  has(label: number): boolean {
    return this.present.has(label) && !this.deletedLabels.has(label);
  }

  /** Every live label (the exact path scores them all). */
  *liveLabels(): Generator<number> {
    for (const label of this.present) if (!this.deletedLabels.has(label)) yield label;
  }

  /** Grow once for a whole batch instead of once per point. */
  reserve(needed: number): void {
    const next = nextCapacity(this.capacity, needed);
    if (next !== this.capacity) {
      this.native.resizeIndex(next);
      this.capacity = next;
    }
  }

  search(
    query: ArrayLike<number>,
    k: number,
    ef: number,
    filter?: (label: number) => boolean,
  ): { neighbors: number[]; distances: number[] } {
    const live = this.liveCount;
    if (live === 0) return { neighbors: [], distances: [] };
    // hnswlib refuses k > maxElements; more than the live count can never come back anyway.
    const kk = Math.min(k, live);
    const want = Math.max(ef, kk);
    if (want !== this.ef) {
      this.native.setEf(want);
      this.ef = want;
    }
    const q = Array.from(query);
    return filter ? this.native.searchKnn(q, kk, filter) : this.native.searchKnn(q, kk);
  }

  /** The stored vector (normalised for cosine, as hnswlib keeps it). */
  vector(label: number): number[] {
    return this.native.getPoint(label);
  }

  async write(file: string): Promise<void> {
    await this.native.writeIndex(file);
  }

  get liveCount(): number {
    return this.present.size - this.deletedLabels.size;
  }
  get deletedCount(): number {
    return this.deletedLabels.size;
  }
  get totalCount(): number {
    return this.present.size;
  }
  get maxElements(): number {
    return this.capacity;
  }

  /**
   * hnswlib's own allocation: per slot of capacity the level-0 record (vector, 2M links, counts,
   * label) plus a mutex; per element about 1/ln(M) upper-level link lists and the label map entry.
   */
  estimatedBytes(): number {
    const { dimension, m } = this.params;
    const level0 = dimension * 4 + (2 * m * 4 + 4) + 8;
    const perSlot = level0 + 40 + 8;
    const upper = (m * 4 + 4) / Math.log(m) + 48;
    return Math.round(this.capacity * perSlot + this.present.size * upper);
  }
}
