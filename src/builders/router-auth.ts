// Who may call an index's router, and which key the router sends to its model's encoder: pure
// decisions over the VectorIndex spec and the model's authSecretRef, shared by the Secret builder,
// the router Deployment and the reconcile that creates the generated Secret.
import type { V1Secret } from "@kubernetes/client-node";
import type { VectorIndexSpec } from "../api/v1alpha1/index.js";
import { childMeta, type OwnerContext } from "./context.js";
import { routerSelector, withCommon } from "./labels.js";
import { childName } from "./names.js";

/** The key of the generated Secret; also the default key of a user's spec.auth.secretRef. */
export const GENERATED_KEY = "api-key";

export interface SecretKey {
  readonly name: string;
  readonly key: string;
}

export const authSecretName = (index: string): string => childName(index, "auth");

/** The Secret the router reads its clients' keys from; undefined when auth is off. */
export function routerKeySecret(index: string, spec: VectorIndexSpec): SecretKey | undefined {
  if (!spec.auth.enabled) return undefined;
  return spec.auth.secretRef ?? { name: authSecretName(index), key: GENERATED_KEY };
}

/** The Secret the operator must make (only when auth is on and the user brings none). */
export function generatedAuthSecret(index: string, spec: VectorIndexSpec): SecretKey | undefined {
  if (!spec.auth.enabled || spec.auth.secretRef) return undefined;
  return { name: authSecretName(index), key: GENERATED_KEY };
}

/**
 * The generated Secret holding `apiKey`. The key is random, so the reconcile creates this object
 * only when it is absent and never applies it again: a re-render would be a new key.
 */
export function authSecret(ctx: OwnerContext, index: string, apiKey: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: childMeta(ctx, authSecretName(index), withCommon(routerSelector(index), ctx.ownerLabels)),
    type: "Opaque",
    stringData: { [GENERATED_KEY]: apiKey },
  };
}
