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
