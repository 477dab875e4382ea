// spec.restore as a pure decision: whether the first generation's shards may be built, and if so the
// restore their init containers run (src/builders/shard-statefulset.ts withShardRestore). A chain of
// small checks in order; the first that fails decides (cert-manager's policy chains).
//
// Once status.restoredFrom is recorded the restore is done: the checks no longer run (the snapshot
// may be deleted by retention, the model may move on), and the restored generation keeps the same
// init container — it skips a data dir that holds data — so recording the restore does not restart
// the shards. Another generation never gets one: a move backfills it from the restored one.
import type { SnapshotStore, VectorIndexSpec, VectorIndexStatus } from "../../src/api/v1alpha1/index.js";
import type { ShardRestore } from "../../src/builders/shard-statefulset.js";

/** What the reconcile read of spec.restore's IndexSnapshot and of the index it copies. */
export interface RestoreSource {
  readonly found: boolean;
  /** The object fails its schema: why. */
  readonly invalid?: string | undefined;
  readonly phase?: string | undefined;
  readonly fingerprint?: string | undefined;
  readonly vectors?: number | undefined;
  /** spec.indexRef.name. */
  readonly fromIndex?: string | undefined;
  /** spec.snapshot.store of the index it copies, when that index exists and has one. */
  readonly fromIndexStore?: SnapshotStore | undefined;
}

export interface RestoreInput {
  readonly namespace: string;
  readonly spec: VectorIndexSpec;
  readonly restoredFrom: VectorIndexStatus["restoredFrom"];
  /** The model's fingerprint: the generation the restore fills. */
  readonly fingerprint: string;
  /** Undefined when spec.restore is unset or the restore is recorded. */
  readonly source: RestoreSource | undefined;
}

export type RestorePlan =
  | { readonly kind: "none" }
  /** Build nothing yet: the snapshot is missing, not Succeeded, or there is no store to read. */
  | { readonly kind: "wait"; readonly reason: string; readonly message: string }
  /** Build nothing: restoring would mix models. */
  | { readonly kind: "refuse"; readonly reason: string; readonly message: string }
  /** Build the restored generation with this restore in its shards' init containers. */
  | {
      readonly kind: "restore";
      readonly restore: ShardRestore;
      /** Not yet in status.restoredFrom: record it once the shards are ready. */
      readonly pending: boolean;
      readonly vectors?: number | undefined;
    };

export const RESTORE_SOURCE_NOT_READY = "RestoreSourceNotReady";
export const RESTORE_FINGERPRINT_MISMATCH = "RestoreFingerprintMismatch";
export const RESTORE_STORE_MISSING = "RestoreStoreMissing";

export function restorePlan(i: RestoreInput): RestorePlan {
  const done = i.restoredFrom;
  if (done) {
    const store = i.spec.snapshot?.store ?? i.source?.fromIndexStore;
    // Without a store the init container cannot be written again; the shards already hold the data.
    if (!store) return { kind: "none" };
    return {
      kind: "restore",
      pending: false,
      restore: { snapshot: done.snapshot, fromIndex: done.fromIndex, fingerprint: done.fingerprint, store },
    };
  }
  const wanted = i.spec.restore?.snapshotName;
  if (wanted === undefined) return { kind: "none" };
  const s = i.source ?? { found: false };
  const where = `IndexSnapshot "${wanted}" in namespace ${i.namespace}`;
  const wait = (message: string): RestorePlan => ({
    kind: "wait",
    reason: RESTORE_SOURCE_NOT_READY,
    message,
  });
  if (!s.found)
    return wait(
      `${where} not found; the index is built once it exists and is Succeeded (kubectl get isnap -n ` +
        `${i.namespace}); or remove spec.restore to start empty`,
    );
  if (s.invalid !== undefined) return wait(`${where} is invalid: ${s.invalid}`);
  if (s.phase !== "Succeeded")
    return wait(
      `${where} is ${s.phase ?? "not started"}; the index is built once it is Succeeded` +
        (s.phase === "Failed"
          ? ": it failed, so restore from another snapshot (delete and re-create this VectorIndex with " +
            "spec.restore naming a Succeeded one) or remove spec.restore to start empty"
          : ""),
    );
  if (!s.fingerprint || !s.fromIndex)
    return wait(`${where} is Succeeded but its status has no fingerprint or its spec no indexRef`);
  if (s.fingerprint !== i.fingerprint)
    return {
      kind: "refuse",
      reason: RESTORE_FINGERPRINT_MISMATCH,
      message:
        `${where} was taken with model fingerprint ${s.fingerprint}, but spec.modelRef's model has ` +
        `fingerprint ${i.fingerprint}: vectors of different models must not meet, so no shards are built; ` +
        `point spec.modelRef at the model with fingerprint ${s.fingerprint.slice(0, 12)}, or remove spec.restore`,
    };
  const store = i.spec.snapshot?.store ?? s.fromIndexStore;
  if (!store)
    return {
      kind: "wait",
      reason: RESTORE_STORE_MISSING,
      message:
        `neither this index nor VectorIndex "${s.fromIndex}" (which ${where} copies) sets ` +
        `spec.snapshot.store, so its files cannot be found: set spec.snapshot.store to the store the ` +
        `snapshot was written to`,
    };
  return {
    kind: "restore",
    pending: true,
    vectors: s.vectors,
    restore: { snapshot: wanted, fromIndex: s.fromIndex, fingerprint: s.fingerprint, store },
  };
}
