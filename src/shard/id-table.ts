// label -> id of the live points, in memory. A query answers ids for its k labels; reading them from
// SQLite cost 30-100 µs per query (measured on the bench machine), a lookup here well under 1 µs.
// Labels are dense integers the store hands out once and never reuses for another id, so an array
// indexed by label suffices; the store stays the truth and the table is rebuilt from it on load.

export class IdTable {
  private readonly ids: (string | undefined)[] = [];
  private live = 0;
  private chars = 0;

  set(label: number, id: string): void {
    const old = this.ids[label];
    if (old === undefined) this.live++;
    else this.chars -= old.length;
    this.ids[label] = id;
    this.chars += id.length;
  }

  delete(label: number): void {
    const old = this.ids[label];
    if (old === undefined) return;
    this.ids[label] = undefined;
    this.live--;
    this.chars -= old.length;
  }

  /** The id of a live label, or undefined when the label is deleted or unknown. */
  get(label: number): string | undefined {
    return this.ids[label];
  }

  get size(): number {
    return this.live;
  }

  /** V8 strings (header + 1-2 bytes per char) plus one array slot per label. */
  estimatedBytes(): number {
    return this.ids.length * 8 + this.live * 24 + this.chars * 2;
  }
}
