// The last step of every reconcile: write status only when it changed, then announce transitions.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Condition } from "../../src/kube/status.js";
import type { ReconcilerDeps } from "./deps.js";
import { transitionEvents } from "./transition-events.js";

export async function writeStatus(
  deps: ReconcilerDeps,
  obj: KubernetesObject,
  status: { readonly conditions?: readonly Condition[] | undefined },
  previous: { readonly conditions?: readonly Condition[] | undefined } | undefined,
): Promise<void> {
  const result = await deps.applier.applyStatus(obj, status, previous);
  if (!result.changed) return;
  for (const e of transitionEvents(previous?.conditions, status.conditions ?? [])) {
    if (e.type === "Normal") await deps.events.normal(obj, e.reason, e.message);
    else await deps.events.warning(obj, e.reason, e.message);
  }
}
