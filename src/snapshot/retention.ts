// Which IndexSnapshots a retention pass deletes: a pure function of the snapshots, `retain` and the
// clock, so the operator only lists, decides and deletes, and the decision is tested as a table.
import type { z } from "zod";
import type { SnapshotPhase } from "../api/v1alpha1/index-snapshot.js";

/** Failed snapshots stay this long so their conditions can be read, then they go. */
export const FAILED_TTL_MS = 24 * 60 * 60 * 1000;

export interface RetentionCandidate {
  readonly name: string;
  /** status.phase; unset (not yet picked up) counts as Pending. */
  readonly phase?: z.infer<typeof SnapshotPhase>;
  /** status.completedAt (RFC 3339). */
  readonly completedAt?: string;
  /** metadata.creationTimestamp (RFC 3339), the fallback when completedAt is unset. */
  readonly createdAt?: string;
}

/** completedAt, else createdAt, in ms; undefined when neither parses. */
function age(s: RetentionCandidate): number | undefined {
  for (const t of [s.completedAt, s.createdAt]) {
    const ms = t === undefined ? Number.NaN : Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/**
 * Names to delete, oldest first: Succeeded snapshots beyond the newest `retain` (retain 0 keeps all,
 * as the schema documents), and Failed ones older than FAILED_TTL_MS. Pending and Running are never
 * deleted. A snapshot without a usable time is kept and does not take a retain slot: its age is
 * unknown, and guessing could delete the newest copy. Equal times are ordered by name (the larger
 * name counts as newer), so the answer does not depend on the list order.
 */
export function retentionDecision(
  snapshots: readonly RetentionCandidate[],
  retain: number,
  now: number,
): string[] {
  const dated = snapshots.flatMap((s) => {
    const at = age(s);
    return at === undefined ? [] : [{ name: s.name, phase: s.phase ?? "Pending", at }];
  });
  const newestFirst = (a: { name: string; at: number }, b: { name: string; at: number }) =>
    b.at - a.at || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);

  const succeeded = dated.filter((s) => s.phase === "Succeeded").sort(newestFirst);
  const dropSucceeded = retain <= 0 ? [] : succeeded.slice(retain);
  const dropFailed = dated.filter((s) => s.phase === "Failed" && now - s.at > FAILED_TTL_MS);

  return [...dropSucceeded, ...dropFailed].sort((a, b) => newestFirst(b, a)).map((s) => s.name);
}
