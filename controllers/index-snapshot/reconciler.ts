// IndexSnapshot: one point-in-time copy of one VectorIndex generation. A snapshot applied by hand
// (no runner annotation) gets a Job, owned by it, that runs `embedops snapshot run NAME --kube` with
// the index's spec.snapshot.store; the VectorIndex's CronJob creates its own objects and drives them
// itself. Whoever runs the copy marks the object (runner annotation) and writes its status from
// Running on; the operator writes only Pending and why (decision.ts), or Failed when the Job died
// without the run recording an end.
//
// The finalizer: deleting an IndexSnapshot deletes its files from the store (S3 prefix or PVC
// directory), which no owner reference can do. Retention does so itself before it deletes an object
// (and marks it); for any other deletion the operator, which holds neither the store's credentials
// nor its volume, runs a short Job `<name>-delete` (`embedops snapshot delete`) with the index's
// store and releases the object when it ends. A missing index or store, or a failed Job, releases it
// at once with a Warning event naming the files left behind (decision.ts deletionDecision).
import type { KubernetesObject, V1Job } from "@kubernetes/client-node";
import type { IndexSnapshot, IndexSnapshotStatus, VectorIndex } from "../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../src/builders/context.js";
import { snapshotDeleteJob, snapshotJob } from "../../src/builders/snapshot-job.js";
import { snapshotDeleteJobName, snapshotJobName } from "../../src/builders/snapshot-runner.js";
import { FINALIZER } from "../../src/kube/apply.js";
import { isNotFound } from "../../src/kube/errors.js";
import { keyOf } from "../../src/kube/keys.js";
import type { Controller, ReconcileContext, ReconcileResult } from "../../src/kube/operator-runtime.js";
import { controllerReference } from "../../src/kube/owner.js";
import { type ControllerOptions, depsFrom, type ReconcilerDeps, rfc3339 } from "../shared/deps.js";
import { readPrimary } from "../shared/primary.js";
import { INDEX_SNAPSHOT, JOB, VECTOR_INDEX } from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";
import { deletionDecision, type JobView, snapshotDecision } from "./decision.js";
import { RUNNER_ANNOTATION, STORE_DELETED_ANNOTATION } from "./run-status.js";

export { snapshotDecision } from "./decision.js";

async function readJob(deps: ReconcilerDeps, namespace: string, name: string): Promise<V1Job | undefined> {
  try {
    return (await deps.objects.read({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace },
    })) as V1Job;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function jobView(job: V1Job | undefined): (JobView & { complete?: boolean }) | undefined {
  if (!job) return undefined;
  const isTrue = (type: string) =>
    job.status?.conditions?.find((c) => c.type === type && c.status === "True");
  const failed = isTrue("Failed");
  if (failed)
    return { failed: { reason: failed.reason ?? "Failed", message: failed.message ?? "the Job failed" } };
  return isTrue("Complete") ? { complete: true } : {};
}

const ownerContext = (deps: ReconcilerDeps, obj: KubernetesObject): OwnerContext => ({
  namespace: obj.metadata?.namespace ?? "",
  ownerReference: controllerReference(obj),
  ownerLabels: obj.metadata?.labels,
  image: deps.image,
});

export class IndexSnapshotReconciler implements Controller {
  readonly name = "indexsnapshot";
  readonly resource = INDEX_SNAPSHOT;
  // The end of an IndexSnapshot's Job (a pod that never ran the copy) wakes the snapshot.
  readonly owns = [JOB];

  constructor(private readonly options: ControllerOptions) {}

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = depsFrom(context, this.options);
    const obj = await readPrimary(deps, INDEX_SNAPSHOT, key);
    if (!obj) return {};
    const previous = (obj as { status?: IndexSnapshotStatus }).status;
    if (obj.metadata?.deletionTimestamp) return this.deleting(deps, obj, previous);
    const base = { generation: obj.metadata?.generation, previous, now: rfc3339(deps.clock.now()) };
    const parsed = parseAs<IndexSnapshot>(obj, "IndexSnapshot");
    if (!parsed.ok) {
      const d = snapshotDecision({ ...base, invalidSpec: parsed.message });
      await deps.applier.applyStatus(obj, d.status, previous);
      return {};
    }
    await deps.applier.addFinalizer(obj);
    const namespace = obj.metadata?.namespace ?? "";
    const name = obj.metadata?.name ?? "";
    const indexName = parsed.value.spec.indexRef.name;
    const index = (await readPrimary(deps, VECTOR_INDEX, keyOf({ namespace, name: indexName }))) as
      | VectorIndex
      | undefined;
    const store = index?.spec?.snapshot?.store;
    const job = await readJob(deps, namespace, snapshotJobName(name));
    const decision = snapshotDecision({
      ...base,
      indexName,
      indexFound: index !== undefined,
      hasStore: store !== undefined,
      ...(obj.metadata?.annotations?.[RUNNER_ANNOTATION]
        ? { runner: obj.metadata.annotations[RUNNER_ANNOTATION] }
        : {}),
      ...(job ? { job: jobView(job) ?? {} } : {}),
    });
    if (decision.createJob && store) {
      await deps.applier.apply(snapshotJob(ownerContext(deps, obj), indexName, name, store));
      await deps.events.normal(obj, "Created", `created Job/${snapshotJobName(name)}`);
    }
    if (decision.status) await deps.applier.applyStatus(obj as KubernetesObject, decision.status, previous);
    return {};
  }

  /** The deletion branch: the files first (a Job), then the finalizer; never blocked for long. */
  private async deleting(
    deps: ReconcilerDeps,
    obj: KubernetesObject,
    status: IndexSnapshotStatus | undefined,
  ): Promise<ReconcileResult> {
    if (!obj.metadata?.finalizers?.includes(FINALIZER)) return {};
    const namespace = obj.metadata.namespace ?? "";
    const name = obj.metadata.name ?? "";
    const indexName = (obj as { spec?: { indexRef?: { name?: string } } }).spec?.indexRef?.name ?? "";
    const index = indexName
      ? ((await readPrimary(deps, VECTOR_INDEX, keyOf({ namespace, name: indexName }))) as
          | VectorIndex
          | undefined)
      : undefined;
    const store = index?.spec?.snapshot?.store;
    const job = jobView(await readJob(deps, namespace, snapshotDeleteJobName(name)));
    const d = deletionDecision({
      storeDeleted: obj.metadata.annotations?.[STORE_DELETED_ANNOTATION] === "true",
      ...(status?.location ? { location: status.location } : {}),
      indexFound: index !== undefined,
      hasStore: store !== undefined,
      ...(job ? { job } : {}),
    });
    if (d.action === "wait") return {};
    if (d.action === "createJob") {
      if (store) await deps.applier.apply(snapshotDeleteJob(ownerContext(deps, obj), indexName, name, store));
      await deps.events.normal(
        obj,
        "DeletingStoreFiles",
        `Job/${snapshotDeleteJobName(name)} deletes ${status?.location}`,
      );
      return {};
    }
    if (d.event?.type === "Warning") await deps.events.warning(obj, d.event.reason, d.event.message);
    else if (d.event) await deps.events.normal(obj, d.event.reason, d.event.message);
    await deps.applier.removeFinalizer(obj);
    deps.log.info("finalizer removed", { kind: obj.kind, name, namespace });
    return {};
  }
}
