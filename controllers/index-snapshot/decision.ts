// What the IndexSnapshot controller does with one object: a pure function of the object, its index
// and its Job. The copy itself is the runner's (src/cli/snapshot-cluster.ts), which takes the object
// over with the runner annotation and owns its status from then on; the operator only writes status
// before that (Pending, and why), or Failed when the runner's Job died without recording an end.
import type { IndexSnapshotStatus } from "../../src/api/v1alpha1/index.js";
import { mergeConditions } from "../../src/kube/status.js";
import { condition, INVALID_SPEC } from "../shared/conditions.js";

export interface JobView {
  /** The Job's Failed condition, when it has one. */
  readonly failed?: { readonly reason: string; readonly message: string };
}

export interface SnapshotObservation {
  readonly generation: number | undefined;
  readonly invalidSpec?: string;
  readonly indexName?: string;
  readonly indexFound?: boolean;
  /** The index's spec.snapshot is set (its store, and the runner's ServiceAccount, exist). */
  readonly hasStore?: boolean;
  /** Some runner (CronJob pod, Job, CLI) drives this object. */
  readonly runner?: string;
  /** The object's Job; undefined when none exists. */
  readonly job?: JobView;
  readonly previous: IndexSnapshotStatus | undefined;
  readonly now: string;
}

export interface SnapshotDecision {
  /** undefined: leave status alone (the runner owns it, or it is final). */
  readonly status?: IndexSnapshotStatus;
  readonly createJob: boolean;
}

const FINAL = new Set(["Succeeded", "Failed"]);

export function snapshotDecision(o: SnapshotObservation): SnapshotDecision {
  const c = (type: string, status: "True" | "False", reason: string, message: string) =>
    condition(type, status, reason, message, o.generation);
  const write = (
    phase: "Pending" | "Failed",
    reason: string,
    message: string,
    progressing: boolean,
    invalid?: string,
  ): IndexSnapshotStatus => ({
    ...(o.previous ?? {}),
    ...(o.generation !== undefined ? { observedGeneration: o.generation } : {}),
    phase,
    conditions: mergeConditions(
      o.previous?.conditions,
      [
        c("Ready", "False", reason, message),
        c("Progressing", progressing ? "True" : "False", reason, message),
        phase === "Failed"
          ? c("Degraded", "True", reason, message)
          : c("Degraded", "False", "AsExpected", "no problems found"),
        invalid !== undefined
          ? c(INVALID_SPEC, "True", "InvalidSpec", invalid)
          : c(INVALID_SPEC, "False", "Valid", "the spec is valid"),
      ],
      o.now,
    ) as IndexSnapshotStatus["conditions"],
  });
  const none: SnapshotDecision = { createJob: false };

  if (o.invalidSpec !== undefined)
    return {
      createJob: false,
      status: write("Failed", "InvalidSpec", o.invalidSpec, false, o.invalidSpec),
    };
  if (o.previous?.phase && FINAL.has(o.previous.phase)) return none;
  const jobFailed = o.job?.failed
    ? write(
        "Failed",
        "JobFailed",
        `the snapshot Job failed before the run recorded an end (${o.job.failed.reason}: ${o.job.failed.message}); ` +
          "see `kubectl logs job/<name>-run`, fix the cause and create a new IndexSnapshot",
        false,
      )
    : undefined;
  if (o.runner !== undefined) return jobFailed ? { createJob: false, status: jobFailed } : none;
  if (!o.indexFound)
    return {
      createJob: false,
      status: write(
        "Pending",
        "IndexNotFound",
        `VectorIndex "${o.indexName}" not found; create it, or fix spec.indexRef.name`,
        false,
      ),
    };
  if (!o.hasStore)
    return {
      createJob: false,
      status: write(
        "Pending",
        "NoStore",
        `VectorIndex "${o.indexName}" has no spec.snapshot.store; set one and the snapshot starts`,
        false,
      ),
    };
  if (jobFailed) return { createJob: false, status: jobFailed };
  return {
    createJob: o.job === undefined,
    status: write("Pending", "WaitingForJob", "the snapshot Job starts the copy", true),
  };
}

export interface DeletionObservation {
  /** Retention already removed the files (STORE_DELETED_ANNOTATION). */
  readonly storeDeleted: boolean;
  /** status.location: set once a run started writing to the store. */
  readonly location?: string;
  readonly indexFound: boolean;
  readonly hasStore: boolean;
  /** The object's delete Job; undefined when none exists. */
  readonly job?: JobView & { readonly complete?: boolean };
}

export type DeletionDecision =
  | {
      readonly action: "release";
      readonly event?: { type: "Normal" | "Warning"; reason: string; message: string };
    }
  | { readonly action: "createJob" }
  | { readonly action: "wait" };

/**
 * Deleting an IndexSnapshot deletes its files through a short Job (the operator holds neither the
 * store's credentials nor its volume). Nothing ever blocks deletion for long: no files, no index, no
 * store or a failed Job release the object at once, with an event saying what was left behind.
 */
export function deletionDecision(o: DeletionObservation): DeletionDecision {
  if (o.storeDeleted || !o.location) return { action: "release" };
  const kept = (why: string) =>
    ({
      action: "release",
      event: {
        type: "Warning",
        reason: "StoreFilesKept",
        message: `${why}; the snapshot's files stay at ${o.location}: remove them with embedops snapshot delete`,
      },
    }) as const;
  if (!o.indexFound) return kept("its VectorIndex is gone, and with it the store's settings");
  if (!o.hasStore) return kept("its VectorIndex has no spec.snapshot.store any more");
  if (!o.job) return { action: "createJob" };
  if (o.job.failed) return kept(`the delete Job failed (${o.job.failed.reason}: ${o.job.failed.message})`);
  if (o.job.complete)
    return {
      action: "release",
      event: { type: "Normal", reason: "StoreFilesDeleted", message: `deleted the files at ${o.location}` },
    };
  return { action: "wait" };
}
