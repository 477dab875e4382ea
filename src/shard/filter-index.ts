// An in-memory inverted index over top-level scalar metadata values: what the hnswlib filter callback
// needs, without a database round trip per visited node. It also tells the query path how selective a
// filter is, so a very selective filter is answered exactly instead of by a long graph walk.
import { type Filter, scalarKey } from "./filter.js";

type Metadata = Readonly<Record<string, unknown>> | null | undefined;

export class FilterIndex {
  private readonly postings = new Map<string, Map<string, Set<number>>>();
  private entries = 0;

  add(label: number, metadata: Metadata): void {
    if (!metadata) return;
    for (const [key, value] of Object.entries(metadata)) {
      const vk = scalarKey(value);
      if (vk === undefined) continue;
      let byValue = this.postings.get(key);
      if (!byValue) {
        byValue = new Map();
        this.postings.set(key, byValue);
      }
      let set = byValue.get(vk);
      if (!set) {
        set = new Set();
        byValue.set(vk, set);
      }
      if (!set.has(label)) {
        set.add(label);
        this.entries++;
      }
    }
  }

  /** Remove a label; the caller passes the metadata it was added with (the store keeps it). */
  remove(label: number, metadata: Metadata): void {
    if (!metadata) return;
    for (const [key, value] of Object.entries(metadata)) {
      const vk = scalarKey(value);
      if (vk === undefined) continue;
      const byValue = this.postings.get(key);
      if (!byValue) continue;
      const set = byValue.get(vk);
      if (!set?.delete(label)) continue;
      this.entries--;
      if (set.size === 0) byValue.delete(vk);
      if (byValue.size === 0) this.postings.delete(key);
    }
  }

  /** The labels that satisfy every condition; an empty filter is the caller's business (no call). */
  candidates(filter: Filter): Set<number> {
    const perKey: Set<number>[] = [];
    for (const [key, cond] of filter) {
      const byValue = this.postings.get(key);
      if (!byValue) return new Set();
      const values = "eq" in cond ? [cond.eq] : cond.in;
      const sets: Set<number>[] = [];
      for (const v of values) {
        const vk = scalarKey(v);
        const set = vk === undefined ? undefined : byValue.get(vk);
        if (set) sets.push(set);
      }
      if (sets.length === 0) return new Set();
      perKey.push(sets.length === 1 ? (sets[0] as Set<number>) : union(sets));
    }
    perKey.sort((a, b) => a.size - b.size);
    const [smallest, ...rest] = perKey;
    if (!smallest) return new Set();
    const out = new Set<number>();
    for (const label of smallest) if (rest.every((s) => s.has(label))) out.add(label);
    return out;
  }

  /** Rough heap cost: a Set entry is ~ 24-40 bytes in V8; used only for the stats estimate. */
  estimatedBytes(): number {
    return this.entries * 32;
  }
}

function union(sets: Set<number>[]): Set<number> {
  const out = new Set<number>();
  for (const s of sets) for (const l of s) out.add(l);
  return out;
}
