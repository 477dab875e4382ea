// Building conditions and reading workload readiness: the vocabulary the pure status functions share.
import type { V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import type { Condition, ConditionStatus } from "../../src/kube/status.js";

export const INVALID_SPEC = "InvalidSpec";
export const MODEL_RESOLVED = "ModelResolved";

export function condition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  observedGeneration: number | undefined,
): Condition {
  return {
    type,
    status,
    reason,
    message,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
}

export interface WorkloadState {
  /** Pods ready (serving). */
  readonly ready: number;
  readonly desired: number;
  /** Every pod runs the current template and is ready: the rollout is complete. */
  readonly rolledOut: boolean;
}

/**
 * A Deployment is rolled out when its controller has seen the current spec, every pod is updated
 * (no old ReplicaSet left) and the desired count is available: what `kubectl rollout status` waits for.
 */
export function deploymentState(d: V1Deployment | undefined): WorkloadState {
  const desired = d?.spec?.replicas ?? 1;
  const s = d?.status;
  const ready = s?.readyReplicas ?? 0;
  if (!d || !s) return { ready: 0, desired, rolledOut: false };
  const seen = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const updated = s.updatedReplicas ?? 0;
  const rolledOut =
    seen && updated >= desired && (s.replicas ?? 0) <= updated && (s.availableReplicas ?? 0) >= desired;
  return { ready, desired, rolledOut };
}

export function statefulSetState(sts: V1StatefulSet | undefined): WorkloadState {
  const desired = sts?.spec?.replicas ?? 1;
  const s = sts?.status;
  const ready = s?.readyReplicas ?? 0;
  if (!sts || !s) return { ready: 0, desired, rolledOut: false };
  const seen = (s.observedGeneration ?? 0) >= (sts.metadata?.generation ?? 0);
  const rolledOut = seen && ready >= desired && (s.updatedReplicas ?? 0) >= desired;
  return { ready, desired, rolledOut };
}

/** The phase a human reads; automation reads the conditions it summarises. */
export function phaseOf(flags: {
  readonly invalid: boolean;
  readonly degraded: boolean;
  readonly ready: boolean;
  readonly started: boolean;
}): "Failed" | "Degraded" | "Ready" | "Progressing" | "Pending" {
  if (flags.invalid) return "Failed";
  if (flags.degraded) return "Degraded";
  if (flags.ready) return "Ready";
  return flags.started ? "Progressing" : "Pending";
}
