// EmbeddingModel -> the encoder HorizontalPodAutoscaler (autoscaling/v2), only when
// spec.runtime.autoscaling is set. CPU utilisation is relative to the container's CPU request, so
// the autoscaler needs runtime.resources.requests.cpu to act.
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import type { EncoderRuntime } from "../api/v1alpha1/index.js";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderSelector, withCommon } from "./labels.js";
import { encoderName, encoderRevisionName } from "./names.js";

export function encoderHorizontalPodAutoscaler(
  ctx: OwnerContext,
  model: string,
  runtime: EncoderRuntime,
  /** The stable revision: its Deployment is the one scaled (a candidate runs a fixed count). */
  stableRevision: string,
): V2HorizontalPodAutoscaler | undefined {
  const a = runtime.autoscaling;
  if (!a) return undefined;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: childMeta(ctx, encoderName(model), withCommon(encoderSelector(model), ctx.ownerLabels)),
    spec: {
      scaleTargetRef: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: encoderRevisionName(model, stableRevision),
      },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: { type: "Utilization", averageUtilization: a.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}
