// A hand-applied IndexSnapshot -> a Job (owned by the IndexSnapshot) whose pod runs `embedops
// snapshot run NAME --kube`: it takes the object over (runner annotation), copies the index's active
// generation (or spec.generation) to the index's spec.snapshot.store and records the result in the
// object's status. Hand-made snapshots are never deleted by retention.
import type { V1Job } from "@kubernetes/client-node";
import type { SnapshotStore } from "../api/v1alpha1/snapshot-policy.js";
import { childMeta, type OwnerContext } from "./context.js";
import { withCommon } from "./labels.js";
import { snapshotJobName, snapshotPodSpec, snapshotSelector } from "./snapshot-runner.js";

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
