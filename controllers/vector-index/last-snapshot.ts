// status.lastSnapshot: the newest Succeeded IndexSnapshot of an index, read from the informer cache.
// Objects are read without the zod schema: a snapshot the runner is still writing (or one an older
// version wrote) must not hide the ones that are complete.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { VectorIndexStatus } from "../../src/api/v1alpha1/index.js";

export type LastSnapshot = NonNullable<VectorIndexStatus["lastSnapshot"]>;

interface SnapshotView {
  readonly spec?: { readonly indexRef?: { readonly name?: unknown } };
  readonly status?: { readonly phase?: unknown; readonly completedAt?: unknown };
}

/** The name of the VectorIndex an IndexSnapshot copies, or undefined when it names none. */
export function snapshotIndexName(snapshot: KubernetesObject): string | undefined {
  const name = (snapshot as SnapshotView).spec?.indexRef?.name;
  return typeof name === "string" ? name : undefined;
}

/**
 * The newest Succeeded snapshot of `index` in `namespace` by completedAt (ties: the later name, so
 * the answer does not depend on list order); undefined when there is none.
 */
export function lastSnapshotOf(
  namespace: string,
  index: string,
  snapshots: readonly KubernetesObject[],
): LastSnapshot | undefined {
  let best: LastSnapshot | undefined;
  for (const s of snapshots) {
    const status = (s as SnapshotView).status;
    const name = s.metadata?.name;
    const completedAt = status?.completedAt;
    if (s.metadata?.namespace !== namespace || snapshotIndexName(s) !== index) continue;
    if (status?.phase !== "Succeeded" || typeof completedAt !== "string" || !name) continue;
    const at = Date.parse(completedAt);
    if (Number.isNaN(at)) continue;
    const bestAt = best ? Date.parse(best.completedAt) : Number.NEGATIVE_INFINITY;
    if (!best || at > bestAt || (at === bestAt && name > best.name)) best = { name, completedAt };
  }
  return best;
}
