// The EmbeddingModel's side of a generation move: while its candidate is held at
// NewGenerationRequired, the indexes built on the model carry the move (controllers/vector-index),
// and the model's rollout (src/rollout/state-machine.ts) promotes once each serves the candidate's
// fingerprint as its active generation, or fails when one rolled back. Read from the VectorIndex
// informer cache, which also wakes the model on every index status write (indexWatch).
import type { KubernetesObject } from "@kubernetes/client-node";
import { keyOf } from "../../src/kube/keys.js";
import type { RelatedWatch } from "../../src/kube/operator-runtime.js";
import type { IndexHandOff } from "../../src/rollout/state-machine.js";
import { VECTOR_INDEX } from "../shared/resources.js";

/** The fields read here, without the zod schema: an invalid index still names its model. */
interface IndexView {
  readonly metadata?: { name?: string; namespace?: string; deletionTimestamp?: unknown };
  readonly spec?: { modelRef?: { name?: unknown } };
  readonly status?: {
    fingerprint?: unknown;
    rollout?: { phase?: unknown; reason?: unknown; candidateFingerprint?: unknown; message?: unknown };
  };
}

/** How far the indexes in `namespace` that name `model` are in their move to `candidateFingerprint`. */
export function indexHandOff(
  indexes: readonly KubernetesObject[],
  namespace: string,
  model: string,
  candidateFingerprint: string,
): IndexHandOff {
  const mine = (indexes as readonly IndexView[]).filter(
    (vi) =>
      vi.metadata?.namespace === namespace &&
      vi.spec?.modelRef?.name === model &&
      vi.metadata?.deletionTimestamp === undefined,
  );
  const onCandidate = mine.filter((vi) => vi.status?.fingerprint === candidateFingerprint).length;
  const failed = mine
    .filter((vi) => {
      const r = vi.status?.rollout;
      // A move withdrawn because the model stopped asking (Superseded) is not the index's failure.
      return (
        r?.phase === "Failed" && r.reason !== "Superseded" && r.candidateFingerprint === candidateFingerprint
      );
    })
    .map((vi) => ({
      index: vi.metadata?.name ?? "",
      message:
        typeof vi.status?.rollout?.message === "string" ? vi.status.rollout.message : "its move failed",
    }))
    .sort((a, b) => a.index.localeCompare(b.index))[0];
  return { total: mine.length, onCandidate, ...(failed ? { failed } : {}) };
}

/** A VectorIndex event (its status moved) -> the model it names. */
export const indexWatch: RelatedWatch = {
  resource: VECTOR_INDEX,
  keysFor: (vi) => {
    const name = (vi as IndexView).spec?.modelRef?.name;
    const namespace = vi.metadata?.namespace;
    return typeof name === "string" && namespace ? [keyOf({ namespace, name })] : [];
  },
};
