// The first steps every reconcile shares (kubebuilder order): get the object (gone: done), handle
// deletion, ensure the finalizer.
import type { KubernetesObject } from "@kubernetes/client-node";
import { FINALIZER } from "../../src/kube/apply.js";
import { isNotFound } from "../../src/kube/errors.js";
import { parseKey } from "../../src/kube/keys.js";
import type { ResourceRef } from "../../src/kube/resource.js";
import type { ReconcilerDeps } from "./deps.js";

export async function readPrimary(
  deps: ReconcilerDeps,
  resource: ResourceRef,
  key: string,
): Promise<KubernetesObject | undefined> {
  const { namespace, name } = parseKey(key);
  try {
    return await deps.objects.read({
      apiVersion: resource.apiVersion,
      kind: resource.kind,
      metadata: { name, namespace: namespace ?? "" },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The deletion branch: run `cleanup` (work outside the object graph; children go with the owner
 * through their owner references), then release the object. Returns true when the object is being
 * deleted, so the caller stops there.
 */
export async function handleDeletion(
  deps: ReconcilerDeps,
  obj: KubernetesObject,
  cleanup: () => Promise<void>,
): Promise<boolean> {
  if (!obj.metadata?.deletionTimestamp) return false;
  if (obj.metadata.finalizers?.includes(FINALIZER)) {
    await cleanup();
    await deps.applier.removeFinalizer(obj);
    deps.log.info("finalizer removed", {
      kind: obj.kind,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
    });
  }
  return true;
}
