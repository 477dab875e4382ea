// Which model fingerprint a VectorIndex is built with, as a chain of small pure checks (cert-manager's
// policy chains): the first failing check names the reason the index cannot proceed.
import type { EmbeddingModel, VectorIndexSpec } from "../../src/api/v1alpha1/index.js";
import type { EncoderRouting } from "../../src/builders/index-props.js";
import type { SecretKey } from "../../src/builders/router-auth.js";
import { generationName } from "../../src/core/generation.js";

export type ModelResolution =
  | {
      readonly ok: true;
      readonly model: string;
      readonly fingerprint: string;
      readonly dimension: number;
      /** Which encoder revisions the router calls, and the canary's weight. */
      readonly encoder?: EncoderRouting;
      /** The Secret key the model's encoder wants (its spec.authSecretRef). */
      readonly encoderAuth?: SecretKey;
      /**
       * The model's candidate revision while its rollout holds it for the indexes (Paused,
       * NewGenerationRequired): its fingerprint is the generation the indexes move to.
       */
      readonly candidate?: { readonly fingerprint: string; readonly revision: string };
    }
  | {
      readonly ok: false;
      readonly reason: "ModelNotFound" | "ModelInvalid" | "DimensionMismatch" | "WaitingForFingerprint";
      readonly message: string;
      /** The index's own spec must change (not merely wait for the model). */
      readonly specError: boolean;
    };

/** What the reconcile found under spec.modelRef.name. */
export type ModelLookup =
  | { readonly found: false }
  | { readonly found: true; readonly model?: EmbeddingModel; readonly invalid?: string };

export function resolveModel(spec: VectorIndexSpec, namespace: string, lookup: ModelLookup): ModelResolution {
  const name = spec.modelRef.name;
  if (!lookup.found) {
    return {
      ok: false,
      reason: "ModelNotFound",
      message: `EmbeddingModel "${name}" not found in namespace "${namespace}"; create it or fix spec.modelRef.name`,
      specError: false,
    };
  }
  const model = lookup.model;
  if (!model) {
    return {
      ok: false,
      reason: "ModelInvalid",
      message: `EmbeddingModel "${name}" is invalid (${lookup.invalid ?? "see its InvalidSpec condition"})`,
      specError: false,
    };
  }
  if (spec.dimension !== undefined && spec.dimension !== model.spec.dimension) {
    return {
      ok: false,
      reason: "DimensionMismatch",
      message:
        `spec.dimension is ${spec.dimension} but EmbeddingModel "${name}" produces ${model.spec.dimension}-d vectors; ` +
        "remove spec.dimension or make them equal",
      specError: true,
    };
  }
  // status.fingerprint is the STABLE revision's (a candidate's is in status.canary, and a candidate
  // with another fingerprint is held at weight 0): a fingerprint change never moves the index to a
  // new, empty generation before an encoder that serves it is stable.
  const fingerprint = model.status?.fingerprint;
  if (!fingerprint || !isUsableFingerprint(fingerprint)) {
    return {
      ok: false,
      reason: "WaitingForFingerprint",
      message: `waiting for EmbeddingModel "${name}" to report its fingerprint (its encoder must be rolled out)`,
      specError: false,
    };
  }
  return {
    ok: true,
    model: name,
    fingerprint,
    dimension: model.spec.dimension,
    ...encoderRouting(model),
    ...(model.spec.authSecretRef ? { encoderAuth: model.spec.authSecretRef } : {}),
    ...heldCandidate(model, fingerprint),
  };
}

/** A candidate with another fingerprint that the model's rollout holds until its indexes moved. */
function heldCandidate(
  model: EmbeddingModel,
  stable: string,
): { candidate?: { fingerprint: string; revision: string } } {
  const c = model.status?.canary;
  if (c?.phase !== "Paused" || c.reason !== "NewGenerationRequired") return {};
  if (!c.fingerprint || c.fingerprint === stable || !isUsableFingerprint(c.fingerprint)) return {};
  return { candidate: { fingerprint: c.fingerprint, revision: c.revision } };
}

function isUsableFingerprint(fp: string): boolean {
  try {
    generationName(fp);
    return true;
  } catch {
    return false;
  }
}

function encoderRouting(model: EmbeddingModel): { encoder?: EncoderRouting } {
  const revision = model.status?.revision;
  if (!revision) return {};
  const c = model.status?.canary;
  // Only a canary that shares the stable's fingerprint ever gets weight (state-machine.ts).
  const canary =
    c && c.weight > 0 && c.revision !== revision && c.stableRevision === revision
      ? { revision: c.revision, weight: c.weight }
      : undefined;
  return { encoder: { revision, ...(canary ? { canary } : {}) } };
}
