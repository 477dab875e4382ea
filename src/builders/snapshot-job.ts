// A hand-applied IndexSnapshot -> a Job (owned by the IndexSnapshot) whose pod runs `embedops
// snapshot run NAME --kube`: it takes the object over (runner annotation), copies the index's active
// generation (or spec.generation) to the index's spec.snapshot.store and records the result in the
// object's status. Hand-made snapshots are never deleted by retention.
import type { V1Job } from "@kubernetes/client-node";
import type { SnapshotStore } from "../api/v1alpha1/snapshot-policy.js";
import { childMeta, type OwnerContext } from "./context.js";
import { withCommon } from "./labels.js";
import {
  snapshotDeleteJobName,
  snapshotJobName,
  snapshotPodSpec,
  snapshotSelector,
} from "./snapshot-runner.js";

/** Finished Jobs go after a day; the IndexSnapshot keeps the result, its events the failure. */
const TTL_SECONDS = 24 * 60 * 60;

export function snapshotJob(ctx: OwnerContext, index: string, snapshot: string, store: SnapshotStore): V1Job {
  const labels = withCommon(snapshotSelector(index), ctx.ownerLabels);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: childMeta(ctx, snapshotJobName(snapshot), labels),
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: TTL_SECONDS,
      template: {
        metadata: { labels },
        spec: snapshotPodSpec(
          ctx,
          index,
          ["snapshot", "run", snapshot, "--kube", "--namespace", ctx.namespace],
          store,
        ),
      },
    },
  };
}

/**
 * Deleting an IndexSnapshot: a Job (owned by it, so it goes with it) that removes the snapshot's
 * files from the index's store with `embedops snapshot delete`; the finalizer waits for its end.
 */
export function snapshotDeleteJob(
  ctx: OwnerContext,
  index: string,
  snapshot: string,
  store: SnapshotStore,
): V1Job {
  const labels = withCommon(snapshotSelector(index), ctx.ownerLabels);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: childMeta(ctx, snapshotDeleteJobName(snapshot), labels),
    spec: {
      backoffLimit: 2,
      // A store that does not answer must not hold the finalizer for long.
      activeDeadlineSeconds: 600,
      template: {
        metadata: { labels },
        spec: {
          ...snapshotPodSpec(ctx, index, ["snapshot", "delete", snapshot, "--from-index", index], store),
          // No API access: it only talks to the store.
          automountServiceAccountToken: false,
        },
      },
    },
  };
}
