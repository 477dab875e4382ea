// The pure half of an informer: the cache of one kind and what a relist changes in it.
import type { KubernetesObject } from "@kubernetes/client-node";
import { objectKey } from "./keys.js";

export interface RelistDiff<T extends KubernetesObject> {
  readonly added: T[];
  readonly updated: Array<{ readonly obj: T; readonly old: T }>;
  readonly deleted: T[];
}

/**
 * What happened between the cache and a fresh list: events missed while a watch was down or
 * expired (410 Gone) are recovered here, including deletions no watch event reported.
 */
export function diffRelist<T extends KubernetesObject>(
  cache: ReadonlyMap<string, T>,
  items: readonly T[],
): RelistDiff<T> {
  const fresh = new Map(items.map((o) => [objectKey(o), o]));
  const added: T[] = [];
  const updated: Array<{ obj: T; old: T }> = [];
  const deleted: T[] = [];
  for (const [key, obj] of fresh) {
    const old = cache.get(key);
    if (!old) added.push(obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) updated.push({ obj, old });
  }
  for (const [key, old] of cache) if (!fresh.has(key)) deleted.push(old);
  return { added, updated, deleted };
}
