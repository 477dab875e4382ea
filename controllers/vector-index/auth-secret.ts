// The generated auth Secret (<index>-auth): created once with a random key when spec.auth asks for
// it and the user brings none, then left alone — never re-applied (a re-render would be a new key),
// never rotated, deleted with the index by the garbage collector through its owner reference.
//
// Existence is checked with a metadata-only GET, so the key never enters the operator's memory or
// logs; RBAC grants exactly get+create on Secrets (see deploy/rbac/clusterrole.yaml).
import { randomBytes } from "node:crypto";
import type { VectorIndexSpec } from "../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../src/builders/context.js";
import { authSecret, generatedAuthSecret } from "../../src/builders/router-auth.js";
import { isConflict, isNotFound } from "../../src/kube/errors.js";
import type { ReconcilerDeps } from "../shared/deps.js";

/** 256 random bits, URL- and header-safe. */
const newApiKey = (): string => randomBytes(32).toString("base64url");

/** Creates the Secret when it is missing; returns "Secret/<name>" when this call created it. */
export async function ensureAuthSecret(
  deps: ReconcilerDeps,
  ctx: OwnerContext,
  index: string,
  spec: VectorIndexSpec,
): Promise<string | undefined> {
  const wanted = generatedAuthSecret(index, spec);
  if (!wanted) return undefined;
  try {
    await deps.objects.readMetadata({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: wanted.name, namespace: ctx.namespace },
    });
    return undefined;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await deps.objects.create(authSecret(ctx, index, newApiKey()));
  } catch (err) {
    // Someone (a previous leader, the user) made it between our GET and POST: theirs stays.
    if (isConflict(err)) return undefined;
    throw err;
  }
  deps.log.info("auth secret created", { secret: wanted.name, namespace: ctx.namespace });
  return `Secret/${wanted.name}`;
}
