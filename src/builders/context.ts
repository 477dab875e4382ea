// What every builder needs besides the owner's spec: where the children go, who owns them, which
// image runs the data plane.
import type { V1ObjectMeta, V1OwnerReference } from "@kubernetes/client-node";
import type { Labels } from "./labels.js";

export interface OwnerContext {
  /** Namespace of the owner; children live beside it (owner references cannot cross namespaces). */
  readonly namespace: string;
  /** The owner's controller reference (src/kube/owner.ts controllerReference). */
  readonly ownerReference: V1OwnerReference;
  /** The owner's own labels, read for app.kubernetes.io/part-of. */
  readonly ownerLabels?: Readonly<Record<string, string>> | undefined;
  /**
   * Image of the data-plane roles (`embedops encoder|shard|router|fetch-model`): the operator's own
   * image unless a spec overrides it, so the operator and what it deploys agree on flags.
   */
  readonly image: string;
}

export function childMeta(ctx: OwnerContext, name: string, labels: Labels): V1ObjectMeta {
  return {
    name,
    namespace: ctx.namespace,
    labels,
    ownerReferences: [ctx.ownerReference],
  };
}
