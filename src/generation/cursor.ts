// Where the backfill is in each of N's shards, and how a scanned page moves it. Pure.
import { shardForId } from "../router/shard-hash.js";
import type { BackfillRecord } from "./progress.js";

/** One page of GET /v1/scan, as the shard answers it. */
export interface ScanPage {
  items: { id: string; seq: number; metadata: Record<string, unknown> | null; text: string | null }[];
  nextAfterSeq: number;
  lastSeq: number;
  done: boolean;
}

/**
 * The cursor after a page is safely in N+1. A short page (`done`) was read in the same synchronous
 * step as `lastSeq`, so nothing live at or below lastSeq is missing: the cursor may jump there, past
 * the seqs deletes took. A full page only covers up to its last item.
 */
export function cursorAfter(page: ScanPage): number {
  return page.done ? Math.max(page.nextAfterSeq, page.lastSeq) : page.nextAfterSeq;
}

/** Ids grouped by their shard in a generation of `shardCount` shards (the router's FNV-1a rule). */
export function groupByShard<T extends { id: string }>(
  points: readonly T[],
  shardCount: number,
): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const p of points) {
    const s = shardForId(p.id, shardCount);
    const list = out.get(s);
    if (list) list.push(p);
    else out.set(s, [p]);
  }
  return out;
}

/** Why a stored record cannot be continued from, or undefined when it can. */
export function recordMismatch(record: BackfillRecord, from: string, to: string): string | undefined {
  if (record.from === from && record.to === to) return undefined;
  return (
    `the backfill record in ${to}'s first shard is for ${record.from} -> ${record.to}, ` +
    `but this plan copies ${from} -> ${to}; fix the plan, or delete the record (PUT /v1/meta/backfill) to start over`
  );
}

/** The record to start with: the stored one for this pair (its cursor), or a fresh one. */
export function startRecord(
  stored: BackfillRecord | undefined,
  from: string,
  to: string,
  sourceShards: readonly string[],
  total: number,
  nowIso: string,
): BackfillRecord {
  const cursor: Record<string, number> = {};
  for (const name of sourceShards) cursor[name] = stored?.cursor[name] ?? 0;
  if (stored) return { ...stored, cursor, total, finished: false, updatedAt: nowIso };
  return {
    from,
    to,
    cursor,
    done: 0,
    skippedExisting: 0,
    withoutText: 0,
    total,
    ratePerSecond: 0,
    etaSeconds: null,
    startedAt: nowIso,
    updatedAt: nowIso,
    finished: false,
  };
}
