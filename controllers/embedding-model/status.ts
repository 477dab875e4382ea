// EmbeddingModel status as a pure function of what the reconcile observed: no API calls, no clock
// (now is passed in), so a steady state computes exactly the stored status and nothing is written.
import type { V1Deployment } from "@kubernetes/client-node";
import type { CanaryStatus, EmbeddingModelStatus } from "../../src/api/v1alpha1/index.js";
import { type Condition, mergeConditions } from "../../src/kube/status.js";
import { condition, deploymentState, INVALID_SPEC, phaseOf } from "../shared/conditions.js";
import type { EncoderReport } from "./fingerprint-probe.js";

export interface ModelObservation {
  readonly generation: number | undefined;
  /** Set when the spec failed validation: nothing else was attempted. */
  readonly invalidSpec?: string;
  readonly dimension?: number;
  /** The stable revision's Deployment: what Ready, replicas and the fingerprint describe. */
  readonly deployment?: V1Deployment;
  /** The stable revision (src/rollout/revision.ts). */
  readonly revision?: string;
  /**
   * The rollout's result (src/rollout/state-machine.ts): status.canary, and the Progressing /
   * Degraded conditions it asserts, which replace the workload's own. Undefined: keep the stored one.
   */
  readonly rollout?: {
    readonly canary: CanaryStatus | undefined;
    readonly conditions: readonly {
      type: string;
      status: "True" | "False";
      reason: string;
      message: string;
    }[];
  };
  /** What the encoder reported, or why asking failed; undefined when it was not asked. */
  readonly report?: EncoderReport | { readonly error: string };
  /** Why converging the children failed. */
  readonly applyError?: string;
  readonly previous: EmbeddingModelStatus | undefined;
  /** RFC 3339, for transitions only. */
  readonly now: string;
}

export function modelStatus(o: ModelObservation): EmbeddingModelStatus {
  const g = o.generation;
  const c = (type: string, status: Condition["status"], reason: string, message: string) =>
    condition(type, status, reason, message, g);
  const desired: Condition[] = [];
  const previousFingerprint = o.previous?.fingerprint;

  if (o.invalidSpec !== undefined) {
    desired.push(
      c("Ready", "False", "InvalidSpec", o.invalidSpec),
      c("Progressing", "False", "InvalidSpec", "fix the spec; nothing is rolled out until it is valid"),
      c("Degraded", "False", "InvalidSpec", "no encoder is managed while the spec is invalid"),
      c(INVALID_SPEC, "True", "InvalidSpec", o.invalidSpec),
    );
    return finish(o, desired, {
      phase: phaseOf({ invalid: true, degraded: false, ready: false, started: false }),
    });
  }

  const workload = deploymentState(o.deployment);
  const report = o.report && "fingerprint" in o.report ? o.report : undefined;
  const reportError = o.report && "error" in o.report ? o.report.error : undefined;
  // The stable fingerprint is what a fully rolled-out encoder reports; until then the last known one
  // still describes the pods that serve (old pods keep serving during a rollout).
  const fingerprint = report?.fingerprint ?? previousFingerprint;
  const mismatch =
    report?.dimension !== undefined && o.dimension !== undefined && report.dimension !== o.dimension
      ? `the encoder produces ${report.dimension}-d vectors but spec.dimension is ${o.dimension}; fix spec.dimension or the model`
      : undefined;

  const degradedReason = o.applyError ? "ApplyFailed" : mismatch ? "DimensionMismatch" : undefined;
  const ready = workload.rolledOut && fingerprint !== undefined && degradedReason === undefined;

  if (ready) desired.push(c("Ready", "True", "EncoderAvailable", `${workload.ready} encoder pod(s) ready`));
  else if (degradedReason) desired.push(c("Ready", "False", degradedReason, o.applyError ?? mismatch ?? ""));
  else if (!workload.rolledOut)
    desired.push(
      c("Ready", "False", "EncoderNotReady", `${workload.ready} of ${workload.desired} encoder pod(s) ready`),
    );
  else
    desired.push(
      c(
        "Ready",
        "False",
        "FingerprintUnknown",
        `waiting for the encoder's /info${reportError ? `: ${reportError}` : ""}`,
      ),
    );

  desired.push(
    workload.rolledOut
      ? c("Progressing", "False", "RolloutComplete", `encoder revision ${o.revision ?? "?"} is rolled out`)
      : c("Progressing", "True", "RollingOut", `rolling out encoder revision ${o.revision ?? "?"}`),
    degradedReason
      ? c("Degraded", "True", degradedReason, o.applyError ?? mismatch ?? "")
      : c("Degraded", "False", "AsExpected", "no problems found"),
    c(INVALID_SPEC, "False", "Valid", "the spec is valid"),
  );
  // A rollout speaks for Progressing (and for Degraded when it failed); an apply error or a
  // dimension mismatch still wins Degraded.
  let rolloutDegraded = false;
  for (const rc of o.rollout?.conditions ?? []) {
    if (rc.type === "Degraded" && degradedReason) continue;
    if (rc.type === "Degraded" && rc.status === "True") rolloutDegraded = true;
    const i = desired.findIndex((d) => d.type === rc.type);
    const next = c(rc.type, rc.status, rc.reason, rc.message);
    if (i >= 0) desired[i] = next;
    else desired.push(next);
  }
  const canary = o.rollout ? o.rollout.canary : o.previous?.canary;

  return finish(o, desired, {
    phase: phaseOf({
      invalid: false,
      degraded: degradedReason !== undefined || rolloutDegraded,
      ready,
      started: o.deployment !== undefined,
    }),
    ...(fingerprint ? { fingerprint, fingerprintShort: fingerprint.slice(0, 12) } : {}),
    ...(o.revision ? { revision: o.revision } : {}),
    replicas: workload.desired,
    readyReplicas: workload.ready,
    ...(canary ? { canary } : {}),
  });
}

function finish(
  o: ModelObservation,
  desired: Condition[],
  fields: Omit<EmbeddingModelStatus, "conditions" | "observedGeneration">,
): EmbeddingModelStatus {
  const conditions = mergeConditions(
    o.previous?.conditions,
    desired,
    o.now,
  ) as EmbeddingModelStatus["conditions"];
  return {
    ...(o.generation !== undefined ? { observedGeneration: o.generation } : {}),
    conditions,
    ...fields,
  };
}
