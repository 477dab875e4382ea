// Spec quantities are int-or-string (`cpu: 2` or `cpu: "500m"`); Kubernetes models take strings.
import type { V1ResourceRequirements } from "@kubernetes/client-node";
import type { EncoderRuntime } from "../api/v1alpha1/index.js";

type CpuMemory = { cpu?: number | string | undefined; memory?: number | string | undefined } | undefined;

function quantities(q: CpuMemory): Record<string, string> | undefined {
  if (!q) return undefined;
  const out: Record<string, string> = {};
  if (q.cpu !== undefined) out["cpu"] = String(q.cpu);
  if (q.memory !== undefined) out["memory"] = String(q.memory);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** undefined when the spec sets none: the namespace's LimitRange defaults then apply. */
export function resourceRequirements(
  resources: EncoderRuntime["resources"],
): V1ResourceRequirements | undefined {
  const requests = quantities(resources?.requests);
  const limits = quantities(resources?.limits);
  if (!requests && !limits) return undefined;
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}
