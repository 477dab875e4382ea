// VectorIndex status as a pure function of (spec resolution, observed children, previous status, now).
import type { V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import type { VectorIndexStatus } from "../../src/api/v1alpha1/index.js";
import { generationName } from "../../src/core/generation.js";
import type { GenerationRef } from "../../src/generation/generation-rollout.js";
import { type Condition, mergeConditions } from "../../src/kube/status.js";
import {
  condition,
  deploymentState,
  INVALID_SPEC,
  MODEL_RESOLVED,
  phaseOf,
  statefulSetState,
} from "../shared/conditions.js";
import type { LastSnapshot } from "./last-snapshot.js";
import type { ModelResolution } from "./resolve-model.js";
import { RESTORE_VERIFIED, type RestoreVerification } from "./restore-verify.js";

export const RESTORED = "Restored";

export type RestoredFrom = NonNullable<VectorIndexStatus["restoredFrom"]>;

/** spec.restore as the reconcile found it (restore-plan.ts). */
export interface RestoreObservation {
  /** No shards are built: waiting for the snapshot or a store, or refused (another fingerprint). */
  readonly blocked?: { readonly reason: string; readonly message: string; readonly refused: boolean };
  /** The shards are being filled from this snapshot (not yet ready). */
  readonly restoring?: string;
  /** The restore is done (recorded now, or before). */
  readonly restoredFrom?: RestoredFrom;
  /** The golden-set check of the restored generation (restore-verify.ts), when spec.quality is set. */
  readonly verified?: RestoreVerification | undefined;
}

export interface IndexObservation {
  readonly generation: number | undefined;
  readonly invalidSpec?: string;
  readonly resolution?: ModelResolution;
  /** One entry per desired shard, undefined where the StatefulSet is not there. */
  readonly shards?: readonly (V1StatefulSet | undefined)[];
  readonly router?: V1Deployment;
  readonly applyError?: string;
  /** A move to a new generation (move-status.ts); undefined: the model's fingerprint is the generation. */
  readonly move?: {
    /** The generation status.activeGeneration names (its shards are `shards`). */
    readonly active: GenerationRef;
    readonly generations: NonNullable<VectorIndexStatus["generations"]>;
    readonly rollout: VectorIndexStatus["rollout"];
    readonly backfillProgress?: string | undefined;
    /** A move in progress: Progressing says so. */
    readonly moving?: { readonly reason: string; readonly message: string } | undefined;
    /** A failed move the model still asks for: Degraded. */
    readonly failed?: { readonly reason: string; readonly message: string } | undefined;
  };
  readonly restore?: RestoreObservation;
  /** The newest Succeeded IndexSnapshot of the index (last-snapshot.ts); undefined: none. */
  readonly lastSnapshot?: LastSnapshot | undefined;
  /** New replicas of the active generation (replica-seeding.ts); kept from previous when absent. */
  readonly replicaSync?: VectorIndexStatus["replicaSync"];
  readonly previous: VectorIndexStatus | undefined;
  readonly now: string;
}

export function indexStatus(o: IndexObservation): VectorIndexStatus {
  const c = (type: string, status: Condition["status"], reason: string, message: string) =>
    condition(type, status, reason, message, o.generation);
  const conditions: Condition[] = [];
  const res = o.resolution;

  if (o.invalidSpec !== undefined || !res) {
    const message = o.invalidSpec ?? "the spec could not be read";
    conditions.push(
      c("Ready", "False", "InvalidSpec", message),
      c("Progressing", "False", "InvalidSpec", "fix the spec; nothing is built until it is valid"),
      c("Degraded", "False", "InvalidSpec", "no index is managed while the spec is invalid"),
      c(INVALID_SPEC, "True", "InvalidSpec", message),
    );
    return finish(o, conditions, { phase: "Failed" });
  }

  if (!res.ok) {
    conditions.push(
      c("Ready", "False", res.reason, res.message),
      c("Progressing", res.specError ? "False" : "True", res.reason, res.message),
      c("Degraded", "False", "AsExpected", "no children are managed until the model is resolved"),
      res.specError
        ? c(INVALID_SPEC, "True", res.reason, res.message)
        : c(INVALID_SPEC, "False", "Valid", "the spec is valid"),
      c(MODEL_RESOLVED, "False", res.reason, res.message),
    );
    const keep = o.previous?.activeGeneration ? pickGenerationFields(o.previous) : {};
    return finish(o, conditions, {
      ...keep,
      phase: phaseOf({ invalid: res.specError, degraded: false, ready: false, started: false }),
    });
  }

  const blocked = o.restore?.blocked;
  if (blocked) {
    conditions.push(
      c("Ready", "False", blocked.reason, blocked.message),
      c("Progressing", blocked.refused ? "False" : "True", blocked.reason, blocked.message),
      blocked.refused
        ? c("Degraded", "True", blocked.reason, blocked.message)
        : c("Degraded", "False", "AsExpected", "nothing is built until the restore can start"),
      c(INVALID_SPEC, "False", "Valid", "the spec is valid"),
      c(
        MODEL_RESOLVED,
        "True",
        "ModelResolved",
        `EmbeddingModel "${res.model}" fingerprint ${res.fingerprint.slice(0, 12)}`,
      ),
      c(RESTORED, "False", blocked.reason, blocked.message),
    );
    return finish(o, conditions, {
      phase: phaseOf({ invalid: false, degraded: blocked.refused, ready: false, started: false }),
    });
  }

  const move = o.move;
  const active = move?.active ?? {
    generation: generationName(res.fingerprint),
    fingerprint: res.fingerprint,
  };
  const generation = active.generation;
  const shardStates = (o.shards ?? []).map(statefulSetState);
  const router = deploymentState(o.router);
  const shardsReady = shardStates.filter((s) => s.rolledOut).length;
  const total = shardStates.length;
  const ready = !o.applyError && total > 0 && shardsReady === total && router.rolledOut;
  const detail = `${shardsReady}/${total} shard(s) and ${router.rolledOut ? "the" : "not the"} router rolled out`;
  const degraded = o.applyError
    ? { reason: "ApplyFailed", message: o.applyError }
    : (move?.failed ?? undefined);

  conditions.push(
    ready
      ? c("Ready", "True", "IndexAvailable", `generation ${generation}: ${detail}`)
      : c("Ready", "False", o.applyError ? "ApplyFailed" : "WorkloadsNotReady", o.applyError ?? detail),
    move?.moving
      ? c("Progressing", "True", move.moving.reason, move.moving.message)
      : ready
        ? c("Progressing", "False", "RolloutComplete", `generation ${generation} is rolled out`)
        : c("Progressing", "True", "RollingOut", detail),
    degraded
      ? c("Degraded", "True", degraded.reason, degraded.message)
      : c("Degraded", "False", "AsExpected", "no problems found"),
    c(INVALID_SPEC, "False", "Valid", "the spec is valid"),
    c(
      MODEL_RESOLVED,
      "True",
      "ModelResolved",
      `EmbeddingModel "${res.model}" fingerprint ${res.fingerprint.slice(0, 12)}`,
    ),
  );
  const restoredFrom = o.restore?.restoredFrom ?? o.previous?.restoredFrom;
  if (restoredFrom)
    conditions.push(
      c(
        RESTORED,
        "True",
        "RestoreApplied",
        `filled from IndexSnapshot "${restoredFrom.snapshot}" of VectorIndex "${restoredFrom.fromIndex}"` +
          (restoredFrom.vectors !== undefined ? ` (${restoredFrom.vectors} vectors)` : ""),
      ),
    );
  else if (o.restore?.restoring) conditions.push(c(RESTORED, "False", "Restoring", o.restore.restoring));
  const verified = o.restore?.verified;
  if (verified) conditions.push(c(RESTORE_VERIFIED, verified.status, verified.reason, verified.message));
  const createdAt = o.previous?.generations?.find((g) => g.name === generation)?.createdAt ?? o.now;
  const rollout = move ? move.rollout : o.previous?.rollout;
  return finish(o, conditions, {
    phase: phaseOf({ invalid: false, degraded: degraded !== undefined, ready, started: true }),
    fingerprint: active.fingerprint,
    fingerprintShort: active.fingerprint.slice(0, 12),
    activeGeneration: generation,
    generations: move?.generations ?? [
      { name: generation, fingerprint: active.fingerprint, phase: ready ? "Active" : "Building", createdAt },
    ],
    ...(rollout ? { rollout } : {}),
    ...(move?.backfillProgress !== undefined ? { backfillProgress: move.backfillProgress } : {}),
    ...(o.previous?.vectors !== undefined ? { vectors: o.previous.vectors } : {}),
  });
}

// While the model is unresolved the existing generation keeps serving: keep reporting it.
function pickGenerationFields(p: VectorIndexStatus): Partial<VectorIndexStatus> {
  return {
    ...(p.fingerprint ? { fingerprint: p.fingerprint } : {}),
    ...(p.fingerprintShort ? { fingerprintShort: p.fingerprintShort } : {}),
    ...(p.activeGeneration ? { activeGeneration: p.activeGeneration } : {}),
    ...(p.generations ? { generations: p.generations } : {}),
    ...(p.rollout ? { rollout: p.rollout } : {}),
    ...(p.backfillProgress ? { backfillProgress: p.backfillProgress } : {}),
  };
}

function finish(
  o: IndexObservation,
  desired: Condition[],
  fields: Omit<VectorIndexStatus, "conditions" | "observedGeneration">,
): VectorIndexStatus {
  const conditions = mergeConditions(
    o.previous?.conditions,
    desired,
    o.now,
  ) as VectorIndexStatus["conditions"];
  // Kept on every path: the restore stays recorded while the model is unresolved or the spec invalid.
  const restoredFrom = o.restore?.restoredFrom ?? o.previous?.restoredFrom;
  const replicaSync = o.replicaSync ?? o.previous?.replicaSync;
  return {
    ...(o.generation !== undefined ? { observedGeneration: o.generation } : {}),
    conditions,
    ...fields,
    ...(o.lastSnapshot ? { lastSnapshot: o.lastSnapshot } : {}),
    ...(restoredFrom ? { restoredFrom } : {}),
    ...(replicaSync ? { replicaSync } : {}),
  };
}
