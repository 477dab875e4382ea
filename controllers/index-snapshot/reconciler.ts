// IndexSnapshot: validation and conditions only, for now. The copy itself (a Job per shard that
// streams the shard's online backup to the store, then status with files, bytes and sha256) comes
// with the snapshot issue; until then a snapshot stays Pending and says why.
//
// The finalizer is already taken so that objects created today are cleaned up correctly later:
// deleting an IndexSnapshot will delete its files from the store (S3 prefix or PVC directory),
// which no owner reference can do.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { IndexSnapshot, IndexSnapshotStatus } from "../../src/api/v1alpha1/index.js";
import { keyOf } from "../../src/kube/keys.js";
import type { Controller, ReconcileContext, ReconcileResult } from "../../src/kube/operator-runtime.js";
import { mergeConditions } from "../../src/kube/status.js";
import { condition, INVALID_SPEC } from "../shared/conditions.js";
import { type ControllerOptions, depsFrom, rfc3339 } from "../shared/deps.js";
import { handleDeletion, readPrimary } from "../shared/primary.js";
import { INDEX_SNAPSHOT, VECTOR_INDEX } from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";

export interface SnapshotObservation {
  readonly generation: number | undefined;
  readonly invalidSpec?: string;
  readonly indexFound?: boolean;
  readonly indexName?: string;
  readonly previous: IndexSnapshotStatus | undefined;
  readonly now: string;
}

export function snapshotStatus(o: SnapshotObservation): IndexSnapshotStatus {
  const c = (type: string, status: "True" | "False", reason: string, message: string) =>
    condition(type, status, reason, message, o.generation);
  const problem =
    o.invalidSpec !== undefined
      ? { reason: "InvalidSpec", message: o.invalidSpec }
      : !o.indexFound
        ? {
            reason: "IndexNotFound",
            message: `VectorIndex "${o.indexName}" not found; fix spec.indexRef.name`,
          }
        : { reason: "NotImplemented", message: "this operator version does not take snapshots yet" };
  const conditions = mergeConditions(
    o.previous?.conditions,
    [
      c("Ready", "False", problem.reason, problem.message),
      c("Progressing", "False", problem.reason, problem.message),
      c("Degraded", "False", "AsExpected", "no problems found"),
      o.invalidSpec !== undefined
        ? c(INVALID_SPEC, "True", "InvalidSpec", o.invalidSpec)
        : c(INVALID_SPEC, "False", "Valid", "the spec is valid"),
    ],
    o.now,
  ) as IndexSnapshotStatus["conditions"];
  return {
    ...(o.generation !== undefined ? { observedGeneration: o.generation } : {}),
    conditions,
    phase: o.invalidSpec !== undefined ? "Failed" : "Pending",
  };
}

export class IndexSnapshotReconciler implements Controller {
  readonly name = "indexsnapshot";
  readonly resource = INDEX_SNAPSHOT;

  constructor(private readonly options: ControllerOptions) {}

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = depsFrom(context, this.options);
    const obj = await readPrimary(deps, INDEX_SNAPSHOT, key);
    if (!obj) return {};
    if (await handleDeletion(deps, obj, async () => {})) return {};
    const previous = (obj as { status?: IndexSnapshotStatus }).status;
    const base = { generation: obj.metadata?.generation, previous, now: rfc3339(deps.clock.now()) };
    const parsed = parseAs<IndexSnapshot>(obj, "IndexSnapshot");
    if (!parsed.ok) {
      await deps.applier.applyStatus(obj, snapshotStatus({ ...base, invalidSpec: parsed.message }), previous);
      return {};
    }
    await deps.applier.addFinalizer(obj);
    const indexName = parsed.value.spec.indexRef.name;
    const index = await readPrimary(
      deps,
      VECTOR_INDEX,
      keyOf({ namespace: obj.metadata?.namespace, name: indexName }),
    );
    const status = snapshotStatus({ ...base, indexFound: index !== undefined, indexName });
    await deps.applier.applyStatus(obj as KubernetesObject, status, previous);
    return {};
  }
}
