// `embedops rollout status|promote|abort|retry vi/NAME`: a VectorIndex's move to a new generation
// (generation-rollout.ts), from the running serve (<data-dir>/generations/<index>.json, commands in
// <index>.command beside it) or from a cluster (status.rollout; commands as the same annotation as
// for models, on the VectorIndex).
import type { GenerationRolloutStatus } from "../generation/generation-rollout.js";
import { readGenerationFile } from "../local/generation-file.js";

/** What both sources give for one line. */
export interface IndexRolloutView {
  readonly index: string;
  readonly activeGeneration: string | undefined;
  readonly rollout: GenerationRolloutStatus | undefined;
  /** "BACKFILL 41% ETA 3m" (serve) or "41% ETA 3m" (the cluster's status.backfillProgress). */
  readonly backfill: string | undefined;
  readonly maxFailedChecks: number | undefined;
  readonly source: string;
}

const short = (generation: string | undefined) => (generation ? `${generation.slice(0, 8)}…` : "-");

/**
 * One line, e.g.
 * `vi/docs  generation g-d5b191…(0% of queries) Backfilling  active g-9bc37c…  BACKFILL 70% ETA 1m  checks failed 0/1`,
 * then the status message on a second line.
 */
export function formatIndexRolloutView(v: IndexRolloutView): string {
  const r = v.rollout;
  if (!r) return `vi/${v.index}  no generation move  active ${short(v.activeGeneration)}`;
  const phase = r.reason && r.reason !== r.phase ? `${r.phase} (${r.reason})` : r.phase;
  const moving = r.phase !== "Succeeded" && r.phase !== "Failed";
  const backfill =
    moving && v.backfill
      ? `  ${v.backfill.startsWith("BACKFILL") ? v.backfill : `BACKFILL ${v.backfill}`}`
      : "";
  const recall = r.lastRecall !== undefined ? `  recall ${r.lastRecall.toFixed(2)}` : "";
  const failed = `  checks failed ${r.failedChecks}/${v.maxFailedChecks ?? "?"}`;
  const last = r.lastVerdict ? `  last: ${r.lastVerdict.result} ${r.lastVerdict.message}` : "";
  const line =
    `vi/${v.index}  generation ${short(r.candidateGeneration)}(${r.weight}% of queries) ${phase}  ` +
    `active ${short(v.activeGeneration ?? r.fromGeneration)}${backfill}${recall}${failed}${last}`;
  return r.message ? `${line}\n  ${r.message}` : line;
}

export function localIndexView(dataDir: string, index: string): IndexRolloutView {
  const file = readGenerationFile(dataDir, index);
  if (!file) {
    throw new Error(
      `no generation state for vi/${index} in ${dataDir}: is "embedops serve" running a file with VectorIndex "${index}"? (or pass --kubeconfig for a cluster)`,
    );
  }
  return {
    index,
    activeGeneration: file.active.generation,
    rollout: file.status,
    backfill: file.backfill,
    maxFailedChecks: file.maxFailedChecks,
    source: `embedops serve (${dataDir})`,
  };
}

/** The command names the candidate by its fingerprint's first 12 hex digits (the generation's suffix). */
export function commandRevisionOf(rollout: GenerationRolloutStatus): string {
  return rollout.candidateFingerprint.slice(0, 12);
}
