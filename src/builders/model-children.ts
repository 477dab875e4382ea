// Every child an EmbeddingModel needs, in the order they are applied (the ServiceAccount before the
// Deployments that name it). Per encoder revision that should run (the rollout's `desired`: the
// stable, and a candidate beside it during a rollout) a Deployment and a Service named after the
// revision; the model's main Service selects them all. The HorizontalPodAutoscaler scales the
// stable revision only, and is listed in `absent` when autoscaling is off, so a previously created
// one is removed. Revisions no longer wanted are removed by the controller, which knows which exist.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { EmbeddingModelSpec } from "../api/v1alpha1/index.js";
import type { OwnerContext } from "./context.js";
import { encoderDeployment, modelRevision } from "./encoder-deployment.js";
import { encoderHorizontalPodAutoscaler } from "./encoder-hpa.js";
import { encoderPodDisruptionBudget } from "./encoder-pdb.js";
import { encoderRevisionService, encoderService } from "./encoder-service.js";
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

/** Which encoder revisions run, from the rollout's `desired` (src/rollout/state-machine.ts). */
export interface EncoderRevisions {
  readonly stableRevision: string;
  readonly stableReplicas: number;
  readonly candidateRevision?: string | undefined;
  readonly candidateReplicas: number;
}

/**
 * The children of `model`. `revisions` default: the spec's revision alone, as stable (a first
 * deploy). Only the spec's revision has its Deployment rendered: a stable that differs from it was
 * rendered from an earlier spec, which is gone, so it is left as it runs (re-rendering it from the
 * current spec would turn it into the candidate); its Service is still written.
 */
export function modelChildren(
  ctx: OwnerContext,
  model: string,
  spec: EmbeddingModelSpec,
  revisions?: EncoderRevisions,
): DesiredChildren {
  const specRevision = modelRevision(spec, ctx.image);
  const r = revisions ?? {
    stableRevision: specRevision,
    stableReplicas: spec.runtime.replicas,
    candidateReplicas: 0,
  };
  const hpa = encoderHorizontalPodAutoscaler(ctx, model, spec.runtime, r.stableRevision);
  const autoscaled = spec.runtime.autoscaling !== undefined;
  const runs: KubernetesObject[] = [encoderRevisionService(ctx, model, r.stableRevision)];
  if (r.stableRevision === specRevision) {
    runs.push(
      encoderDeployment(ctx, {
        model,
        spec,
        revision: specRevision,
        ...(autoscaled ? {} : { replicas: r.stableReplicas }),
      }),
    );
  }
  if (r.candidateRevision !== undefined && r.candidateRevision !== r.stableRevision) {
    runs.push(encoderRevisionService(ctx, model, r.candidateRevision));
    if (r.candidateRevision === specRevision) {
      runs.push(
        encoderDeployment(ctx, { model, spec, revision: specRevision, replicas: r.candidateReplicas }),
      );
    }
  }
  return {
    present: [
      encoderServiceAccount(ctx, model),
      encoderService(ctx, model),
      encoderPodDisruptionBudget(ctx, model),
      ...runs,
      ...(hpa ? [hpa] : []),
    ],
    absent: hpa
      ? []
      : [{ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: encoderName(model) }],
  };
}
