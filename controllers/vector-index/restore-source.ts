// The reads spec.restore needs (restore-plan.ts decides): the IndexSnapshot it names and the
// spec.snapshot.store of the index that snapshot copies (only when the restoring index has no store
// of its own). Fresh reads, like the model's: a snapshot that just succeeded must not wait for a resync.
import type {
  IndexSnapshot,
  SnapshotStore,
  VectorIndex,
  VectorIndexStatus,
} from "../../src/api/v1alpha1/index.js";
import { keyOf } from "../../src/kube/keys.js";
import type { ReconcilerDeps } from "../shared/deps.js";
import { readPrimary } from "../shared/primary.js";
import { INDEX_SNAPSHOT, VECTOR_INDEX } from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";
import type { RestoreSource } from "./restore-plan.js";

/** Undefined when there is nothing to read: no spec.restore, or done and the index has its own store. */
export async function readRestoreSource(
  deps: ReconcilerDeps,
  namespace: string,
  vi: VectorIndex,
  restoredFrom: VectorIndexStatus["restoredFrom"],
): Promise<RestoreSource | undefined> {
  const ownStore = vi.spec.snapshot?.store;
  if (restoredFrom) {
    if (ownStore) return undefined;
    return {
      found: true,
      fromIndex: restoredFrom.fromIndex,
      fromIndexStore: await storeOf(deps, namespace, restoredFrom.fromIndex),
    };
  }
  const name = vi.spec.restore?.snapshotName;
  if (name === undefined) return undefined;
  const obj = await readPrimary(deps, INDEX_SNAPSHOT, keyOf({ namespace, name }));
  if (!obj) return { found: false };
  const parsed = parseAs<IndexSnapshot>(obj, "IndexSnapshot");
  if (!parsed.ok) return { found: true, invalid: parsed.message };
  const { spec, status } = parsed.value;
  const fromIndex = spec.indexRef.name;
  return {
    found: true,
    phase: status?.phase,
    fingerprint: status?.fingerprint,
    vectors: status?.vectors,
    fromIndex,
    fromIndexStore: ownStore ? undefined : await storeOf(deps, namespace, fromIndex),
  };
}

async function storeOf(
  deps: ReconcilerDeps,
  namespace: string,
  index: string,
): Promise<SnapshotStore | undefined> {
  const obj = await readPrimary(deps, VECTOR_INDEX, keyOf({ namespace, name: index }));
  if (!obj) return undefined;
  const parsed = parseAs<VectorIndex>(obj, "VectorIndex");
  return parsed.ok ? parsed.value.spec.snapshot?.store : undefined;
}
