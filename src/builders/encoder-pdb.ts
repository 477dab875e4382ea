// EmbeddingModel -> the encoder PodDisruptionBudget.
//
// Always maxUnavailable: 1, whatever the replica count. With one pod, a minAvailable: 1 budget would
// block every node drain forever (a budget nobody can satisfy); maxUnavailable: 1 lets the drain
// evict it, which a single-replica encoder has accepted by choosing one replica. With N > 1 pods it
// keeps N-1 serving during voluntary disruptions — at least what minAvailable: 1 would, and it
// scales with an autoscaled replica count without the operator rewriting the budget.
import type { V1PodDisruptionBudget } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderSelector, withCommon } from "./labels.js";
import { encoderName } from "./names.js";

export function encoderPodDisruptionBudget(ctx: OwnerContext, model: string): V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: childMeta(ctx, encoderName(model), withCommon(encoderSelector(model), ctx.ownerLabels)),
    spec: { maxUnavailable: 1, selector: { matchLabels: encoderSelector(model) } },
  };
}
