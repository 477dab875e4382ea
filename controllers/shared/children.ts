// The Kubernetes half of "converge the children": read each desired child, apply it when it
// differs (src/kube/apply.ts skips up-to-date ones, so a steady state writes nothing), delete the
// ones the spec no longer asks for. Children are read fresh (GET), not from a watch cache: a cache
// can lag our own last write and would make us re-apply, or announce "Created" twice.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { AbsentChild, DesiredChildren } from "../../src/builders/model-children.js";
import type { Applier } from "../../src/kube/apply.js";
import { describeError, isNotFound } from "../../src/kube/errors.js";
import type { ObjectApi } from "../../src/kube/object-api.js";

export interface ConvergeResult {
  /** Observed (or freshly applied) children, by "Kind/name". */
  readonly objects: ReadonlyMap<string, KubernetesObject>;
  /** "Kind/name" of children that did not exist before this reconcile. */
  readonly created: string[];
  readonly deleted: string[];
  /** The first failure, e.g. an immutable field change the API server refused. */
  readonly error?: string;
}

export const childId = (obj: { kind?: string; metadata?: { name?: string } }): string =>
  `${obj.kind}/${obj.metadata?.name}`;

async function readOptional(
  objects: ObjectApi,
  ref: { apiVersion: string; kind: string; name: string; namespace: string },
): Promise<KubernetesObject | undefined> {
  try {
    return await objects.read({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function convergeChildren(
  objects: ObjectApi,
  applier: Applier,
  namespace: string,
  ownerUid: string,
  desired: DesiredChildren,
): Promise<ConvergeResult> {
  const observed = new Map<string, KubernetesObject>();
  const created: string[] = [];
  const deleted: string[] = [];
  for (const child of desired.present) {
    const id = childId(child);
    try {
      const current = await readOptional(objects, {
        apiVersion: child.apiVersion ?? "",
        kind: child.kind ?? "",
        name: child.metadata?.name ?? "",
        namespace,
      });
      const result = await applier.apply(child, current);
      if (!current) created.push(id);
      observed.set(id, result.object);
    } catch (err) {
      return { objects: observed, created, deleted, error: `applying ${id} failed: ${describeError(err)}` };
    }
  }
  for (const gone of desired.absent) {
    try {
      if (await prune(objects, namespace, ownerUid, gone)) deleted.push(`${gone.kind}/${gone.name}`);
    } catch (err) {
      return {
        objects: observed,
        created,
        deleted,
        error: `removing ${gone.kind}/${gone.name} failed: ${describeError(err)}`,
      };
    }
  }
  return { objects: observed, created, deleted };
}

/** Deletes the child only when this owner controls it: a same-named object of a user stays. */
async function prune(
  objects: ObjectApi,
  namespace: string,
  ownerUid: string,
  gone: AbsentChild,
): Promise<boolean> {
  const current = await readOptional(objects, { ...gone, namespace });
  const ours = current?.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === ownerUid);
  if (!current || !ours) return false;
  try {
    await objects.delete(current);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return true;
}
