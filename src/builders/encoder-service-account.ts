// EmbeddingModel -> the encoder's own ServiceAccount: an identity per model for workload-identity
// bindings (e.g. reading a model bucket) without sharing the namespace's default account.
import type { V1ServiceAccount } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderSelector, withCommon } from "./labels.js";
import { encoderName } from "./names.js";

export function encoderServiceAccount(ctx: OwnerContext, model: string): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: childMeta(ctx, encoderName(model), withCommon(encoderSelector(model), ctx.ownerLabels)),
    automountServiceAccountToken: false,
  };
}
