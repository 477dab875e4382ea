// IndexSnapshot events -> the VectorIndexes they concern: the index a snapshot copies (its
// status.lastSnapshot) and the indexes whose spec.restore names it (waiting for it to succeed). The
// mapping reads the VectorIndex informer cache; the reconcile then reads fresh.
import type { KubernetesObject } from "@kubernetes/client-node";
import { objectKey } from "../../src/kube/keys.js";
import type { RelatedWatch } from "../../src/kube/operator-runtime.js";
import { INDEX_SNAPSHOT, VECTOR_INDEX } from "../shared/resources.js";
import { snapshotIndexName } from "./last-snapshot.js";

/** Keys of the indexes in the snapshot's namespace that it copies or that restore from it. */
export function indexesOfSnapshot(
  snapshot: KubernetesObject,
  indexes: readonly KubernetesObject[],
): string[] {
  const name = snapshot.metadata?.name;
  const namespace = snapshot.metadata?.namespace;
  const copied = snapshotIndexName(snapshot);
  if (!name) return [];
  return indexes
    .filter(
      (vi) =>
        vi.metadata?.namespace === namespace &&
        (vi.metadata?.name === copied || restoreSnapshotName(vi) === name),
    )
    .map(objectKey)
    .sort();
}

/** Read without the zod schema, like model-watch.ts: an invalid index still names its snapshot. */
function restoreSnapshotName(vi: KubernetesObject): unknown {
  return (vi as { spec?: { restore?: { snapshotName?: unknown } } }).spec?.restore?.snapshotName;
}

export const snapshotWatch: RelatedWatch = {
  resource: INDEX_SNAPSHOT,
  keysFor: (snapshot, cache) =>
    indexesOfSnapshot(snapshot, cache(VECTOR_INDEX).list(snapshot.metadata?.namespace)),
};
