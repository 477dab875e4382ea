// The parts of VectorIndex status that describe a move to a new generation, as pure functions of
// the generation machine's result (src/generation/generation-rollout.ts) and the backfill's record:
// status.generations[] (with each generation's phase and backfill), status.backfillProgress (the
// `kubectl get vi` Backfill column) and the Degraded condition of a failed move.
import type { VectorIndexStatus } from "../../src/api/v1alpha1/index.js";
import {
  type GenerationDesired,
  type GenerationRef,
  type GenerationRolloutStatus,
  isMoving,
} from "../../src/generation/generation-rollout.js";
import { type BackfillRecord, progressOf } from "../../src/generation/progress.js";

type GenerationEntry = NonNullable<VectorIndexStatus["generations"]>[number];
type GenerationPhase = GenerationEntry["phase"];

/** The move's phase as the candidate generation's lifecycle. */
function candidatePhase(s: GenerationRolloutStatus): GenerationPhase {
  switch (s.phase) {
    case "Building":
      return "Building";
    case "Backfilling":
      return "Backfilling";
    case "Failed":
      return "Failed";
    case "Succeeded":
      return "Active";
    default:
      return "Canary";
  }
}

export interface MoveView {
  /** The generation status.activeGeneration names: N until the move has Succeeded. */
  readonly active: GenerationRef;
  /** Whether the active generation's shards are all rolled out. */
  readonly activeReady: boolean;
  readonly desired: GenerationDesired;
  readonly rollout: GenerationRolloutStatus | undefined;
  /** The backfill record read this reconcile (only while Backfilling). */
  readonly record?: BackfillRecord | undefined;
  /** Whether the retained generation still exists (now < deleteAfter). */
  readonly retainedKept: boolean;
  readonly previous: VectorIndexStatus | undefined;
  readonly now: number;
  readonly nowText: string;
}

/** Each generation that exists after this reconcile, active first. */
export function generationEntries(v: MoveView): GenerationEntry[] {
  const createdAt = (name: string) =>
    v.previous?.generations?.find((g) => g.name === name)?.createdAt ?? v.nowText;
  const entry = (ref: GenerationRef, phase: GenerationPhase, extra: Partial<GenerationEntry> = {}) => ({
    name: ref.generation,
    fingerprint: ref.fingerprint,
    phase,
    createdAt: createdAt(ref.generation),
    ...extra,
  });
  const out: GenerationEntry[] = [entry(v.active, v.activeReady ? "Active" : "Building")];
  const s = v.rollout;
  const candidate = v.desired.candidate?.ref;
  if (s && candidate && candidate.generation !== v.active.generation) {
    const backfill = backfillOf(v, candidate.generation);
    out.push(entry(candidate, candidatePhase(s), backfill ? { backfill } : {}));
  }
  // Promoting: the routers serve N+1 already, N is kept; Succeeded: N is kept until deleteAfter.
  if (s?.phase === "Promoting") {
    out.push(entry({ generation: s.candidateGeneration, fingerprint: s.candidateFingerprint }, "Canary"));
  }
  const retained = v.desired.retained?.ref;
  if (retained && v.retainedKept && retained.generation !== v.active.generation) {
    out.push(entry(retained, "Retired"));
  }
  return out;
}

function backfillOf(v: MoveView, generation: string): GenerationEntry["backfill"] | undefined {
  const r = v.record;
  if (r && r.to === generation) {
    return {
      done: r.done,
      total: r.total,
      rate: Math.round(r.ratePerSecond * 10) / 10,
      ...(r.etaSeconds !== null ? { etaSeconds: Math.ceil(r.etaSeconds) } : {}),
      withoutText: r.withoutText,
    };
  }
  return v.previous?.generations?.find((g) => g.name === generation)?.backfill;
}

/** What the Backfill column shows: "41% ETA 3m" while it runs, "done" after; nothing when no move runs. */
export function backfillProgress(v: MoveView): string | undefined {
  const s = v.rollout;
  if (!s || !isMoving(s) || s.phase === "Building") return undefined;
  if (s.phase === "Backfilling") {
    if (v.record && v.record.to === s.candidateGeneration) {
      return progressOf(v.record, v.now).text.replace(/^BACKFILL /, "");
    }
    return v.previous?.backfillProgress ?? "starting";
  }
  const without = s.backfill?.withoutText ?? 0;
  return without > 0 ? `done (${without} without text)` : "done";
}

/**
 * A failed move degrades the index while the model still asks for its fingerprint (until the model
 * gives up its candidate too, or a retry): then the index cannot follow its model.
 */
export function failedMove(
  rollout: GenerationRolloutStatus | undefined,
  target: GenerationRef | undefined,
): { reason: string; message: string } | undefined {
  if (rollout?.phase !== "Failed" || rollout.reason === "Superseded") return undefined;
  if (target?.fingerprint !== rollout.candidateFingerprint) return undefined;
  return { reason: rollout.reason ?? "GenerationFailed", message: rollout.message ?? "" };
}
