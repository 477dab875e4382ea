// Owner references tie every child to its EmbeddingModel / VectorIndex: the garbage collector
// deletes children with their owner, and a watch on a child kind maps a change back to the owner's
// workqueue key (cert-manager's owned-object handling).
import type { KubernetesObject, V1OwnerReference } from "@kubernetes/client-node";
import { keyOf } from "./keys.js";

export interface OwnerLike {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly uid?: string; readonly namespace?: string };
}

/** The reference a child carries: controller (one managing owner) and blockOwnerDeletion. */
export function controllerReference(owner: OwnerLike): V1OwnerReference {
  const { apiVersion, kind } = owner;
  const name = owner.metadata?.name;
  const uid = owner.metadata?.uid;
  if (!apiVersion || !kind || !name || !uid) {
    throw new Error(
      `an owner reference needs apiVersion, kind, metadata.name and metadata.uid; got ${kind ?? "?"}/${name ?? "?"} ` +
        `uid=${uid ?? "missing"} — pass the object as read from the API server, not the desired one`,
    );
  }
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export interface OwnerKind {
  readonly group: string;
  readonly kind: string;
}

/**
 * The workqueue key of the child's controlling owner of `owner` kind (any version of its group),
 * or undefined when the child is not controlled by one. Owners are in the child's namespace:
 * Kubernetes does not allow namespaced owner references across namespaces.
 */
export function ownerKeyOf(child: KubernetesObject, owner: OwnerKind): string | undefined {
  const ref = child.metadata?.ownerReferences?.find(
    (r) => r.controller === true && r.kind === owner.kind && groupOf(r.apiVersion) === owner.group,
  );
  return ref ? keyOf({ namespace: child.metadata?.namespace, name: ref.name }) : undefined;
}
