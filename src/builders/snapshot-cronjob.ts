// VectorIndex spec.snapshot.schedule -> a CronJob whose pod runs `embedops snapshot create --kube`:
// it records the run as an IndexSnapshot (<index>-YYYYMMDD-HHMMSS), copies the active generation to
// the store and applies spec.snapshot.retain (src/cli/snapshot-cluster.ts). Forbid: two copies of
// one index at once would only compete for the shards' disks, and a slow run simply skips a slot.
import type { V1CronJob } from "@kubernetes/client-node";
import type { SnapshotPolicy } from "../api/v1alpha1/snapshot-policy.js";
import { childMeta, type OwnerContext } from "./context.js";
import { withCommon } from "./labels.js";
import { snapshotPodSpec, snapshotRunnerName, snapshotSelector } from "./snapshot-runner.js";

/** Runs kept for `kubectl get jobs`; the IndexSnapshot objects are the lasting record. */
const SUCCESSFUL_HISTORY = 3;
const FAILED_HISTORY = 3;
/** A slot missed by more than this (operator or controller-manager down) is skipped, not run late. */
const STARTING_DEADLINE_SECONDS = 600;

/** The CronJob of an index whose spec.snapshot has a schedule; undefined without one. */
export function snapshotCronJob(
  ctx: OwnerContext,
  index: string,
  policy: SnapshotPolicy | undefined,
): V1CronJob | undefined {
  if (policy?.schedule === undefined) return undefined;
  const labels = withCommon(snapshotSelector(index), ctx.ownerLabels);
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: childMeta(ctx, snapshotRunnerName(index), labels),
    spec: {
      schedule: policy.schedule,
      ...(policy.timeZone !== undefined ? { timeZone: policy.timeZone } : {}),
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
      successfulJobsHistoryLimit: SUCCESSFUL_HISTORY,
      failedJobsHistoryLimit: FAILED_HISTORY,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels },
            spec: snapshotPodSpec(
              ctx,
              index,
              ["snapshot", "create", "--kube", "--index", index, "--namespace", ctx.namespace],
              policy.store,
            ),
          },
        },
      },
    },
  };
}
