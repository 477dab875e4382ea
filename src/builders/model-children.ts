// Every child an EmbeddingModel needs, in the order they are applied (the ServiceAccount before the
// Deployment that names it). The HorizontalPodAutoscaler is listed in `absent` when autoscaling is
// off, so a previously created one is removed.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { EmbeddingModelSpec } from "../api/v1alpha1/index.js";
import type { OwnerContext } from "./context.js";
import { encoderDeployment } from "./encoder-deployment.js";
import { encoderHorizontalPodAutoscaler } from "./encoder-hpa.js";
import { encoderPodDisruptionBudget } from "./encoder-pdb.js";
import { encoderService } from "./encoder-service.js";
import { encoderServiceAccount } from "./encoder-service-account.js";
import { encoderName } from "./names.js";

/** A child kind and name that must not exist (pruned when the spec stops asking for it). */
export interface AbsentChild {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
}

export interface DesiredChildren {
  readonly present: KubernetesObject[];
  readonly absent: AbsentChild[];
}

export function modelChildren(ctx: OwnerContext, model: string, spec: EmbeddingModelSpec): DesiredChildren {
  const hpa = encoderHorizontalPodAutoscaler(ctx, model, spec.runtime);
  return {
    present: [
      encoderServiceAccount(ctx, model),
      encoderService(ctx, model),
      encoderPodDisruptionBudget(ctx, model),
      encoderDeployment(ctx, { model, spec }),
      ...(hpa ? [hpa] : []),
    ],
    absent: hpa
      ? []
      : [{ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: encoderName(model) }],
  };
}
