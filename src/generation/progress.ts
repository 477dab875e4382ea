// The backfill's progress record, kept in N+1's first shard under /v1/meta/backfill. It is the
// cursor (where to continue after a kill) and what serve and the operator show
// (`BACKFILL 41% ETA 3m`): one record, so the two can never disagree.
import { z } from "zod";

export const BACKFILL_META_KEY = "backfill";

export const backfillRecordSchema = z.object({
  from: z.string(),
  to: z.string(),
  /** Per source shard name: the last seq of N whose document is in N+1 (or was counted as without text). */
  cursor: z.record(z.string(), z.int().min(0)),
  /** Documents written to N+1 or found there already (skippedExisting is a part of done). */
  done: z.int().min(0),
  skippedExisting: z.int().min(0),
  withoutText: z.int().min(0),
  /** Live documents in N, re-read now and then: clients keep writing. */
  total: z.int().min(0),
  ratePerSecond: z.number().min(0),
  etaSeconds: z.number().min(0).nullable(),
  startedAt: z.string(),
  updatedAt: z.string(),
  finished: z.boolean(),
});

export type BackfillRecord = z.infer<typeof backfillRecordSchema>;

export interface Progress {
  /** 0-100, whole percent; 100 only once finished (clients' writes can push done past a stale total). */
  percent: number;
  /** "ETA 3m", "ETA 45s", "ETA ?" (no rate yet), "done" or "stalled" (no update for a minute). */
  eta: string;
  /** The one-line summary, e.g. "BACKFILL 41% ETA 3m" or "BACKFILL done (12 without text)". */
  text: string;
}

/** A record not updated for this long is reported as stalled (its process died or is stuck). */
export const STALLED_AFTER_MS = 60_000;

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m === 0 ? `${h}h` : `${h}h${m}m`;
}

/** What serve and the operator show for a record read at `now` (ms since epoch). */
export function progressOf(record: BackfillRecord, now: number): Progress {
  const handled = record.done + record.withoutText;
  const without = record.withoutText > 0 ? ` (${record.withoutText} without text)` : "";
  if (record.finished) return { percent: 100, eta: "done", text: `BACKFILL done${without}` };
  const raw = record.total > 0 ? (100 * handled) / record.total : 0;
  const percent = Math.min(99, Math.floor(raw));
  const updated = Date.parse(record.updatedAt);
  let eta: string;
  if (Number.isFinite(updated) && now - updated > STALLED_AFTER_MS) eta = "stalled";
  else if (record.etaSeconds === null) eta = "ETA ?";
  else {
    // The record's ETA was right at updatedAt; count down from there.
    const since = Number.isFinite(updated) ? Math.max(0, (now - updated) / 1000) : 0;
    eta = `ETA ${formatDuration(Math.max(0, record.etaSeconds - since))}`;
  }
  return { percent, eta, text: `BACKFILL ${percent}% ${eta}${without}` };
}

/** Seconds left at `ratePerSecond`, or null before any rate is known. */
export function etaSeconds(total: number, handled: number, ratePerSecond: number): number | null {
  if (!(ratePerSecond > 0)) return null;
  return Math.max(0, total - handled) / ratePerSecond;
}
