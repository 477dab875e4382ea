// What every snapshot pod shares, whether the VectorIndex's CronJob or an IndexSnapshot's Job starts
// it: its identity (a ServiceAccount per index, bound by a RoleBinding in the index's namespace to
// the chart's ClusterRole embedops-snapshot-runner, which may only read the VectorIndex and create,
// update and delete IndexSnapshots), its labels (the shards' NetworkPolicy admits them) and how the
// store reaches `embedops snapshot`: a PVC mounted at /snapshots, or an S3 bucket whose credentials
// come from the store's Secret through secretKeyRef, so they never appear in args, specs or logs.
import type {
  V1EnvVar,
  V1PodSpec,
  V1RoleBinding,
  V1ServiceAccount,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { SnapshotStore } from "../api/v1alpha1/snapshot-policy.js";
import { childMeta, type OwnerContext } from "./context.js";
import { APP_NAME, LABEL, type Labels, withCommon } from "./labels.js";
import { childName, MAX_STATEFULSET_NAME } from "./names.js";
import { containerSecurityContext, podSecurityContext } from "./pod-security.js";

/** The chart's ClusterRole (charts/embedops/templates/snapshot-runner-clusterrole.yaml); the operator may bind only it. */
export const SNAPSHOT_RUNNER_CLUSTER_ROLE = "embedops-snapshot-runner";
/** Where store.pvc is mounted in a snapshot pod. */
export const SNAPSHOT_MOUNT = "/snapshots";
export const SNAPSHOT_ROLE = "snapshot";

/**
 * `<index>-snapshot`: the index's snapshot ServiceAccount, RoleBinding and CronJob. 52 like a
 * StatefulSet: the CronJob controller names each Job `<cronjob>-<minutes since epoch>` (11 more).
 */
export const snapshotRunnerName = (index: string): string =>
  childName(index, "snapshot", MAX_STATEFULSET_NAME);

/** The Job that runs one hand-applied IndexSnapshot. */
export const snapshotJobName = (snapshot: string): string => childName(snapshot, "run");

/** The Job that deletes a deleted IndexSnapshot's files from the store. */
export const snapshotDeleteJobName = (snapshot: string): string => childName(snapshot, "delete");

/** Snapshot pods of an index (CronJob and hand-applied runs alike): what the shards' NetworkPolicy admits. */
export function snapshotSelector(index: string): Labels {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: index,
    [LABEL.component]: SNAPSHOT_ROLE,
    [LABEL.index]: index,
    [LABEL.role]: SNAPSHOT_ROLE,
  };
}

export function snapshotServiceAccount(ctx: OwnerContext, index: string): V1ServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: childMeta(ctx, snapshotRunnerName(index), withCommon(snapshotSelector(index), ctx.ownerLabels)),
  };
}

export function snapshotRoleBinding(ctx: OwnerContext, index: string): V1RoleBinding {
  const name = snapshotRunnerName(index);
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: childMeta(ctx, name, withCommon(snapshotSelector(index), ctx.ownerLabels)),
    roleRef: {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: SNAPSHOT_RUNNER_CLUSTER_ROLE,
    },
    subjects: [{ kind: "ServiceAccount", name, namespace: ctx.namespace }],
  };
}

/**
 * The --store/--endpoint flags, the env (secret references only) and the volume of a store, for a
 * snapshot pod and for a restoring shard pod's init container alike (shard-statefulset.ts). A PVC is
 * mounted at /snapshots as the volume `volume` (default "store"), read-only when `readOnly`.
 */
export function storeWiring(
  store: SnapshotStore,
  options: { readonly volume?: string; readonly readOnly?: boolean } = {},
): {
  args: string[];
  env: V1EnvVar[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
} {
  const volume = options.volume ?? "store";
  const readOnly = options.readOnly ? { readOnly: true } : {};
  if (store.pvc)
    return {
      args: ["--store", `path:${SNAPSHOT_MOUNT}`],
      env: [],
      volumes: [{ name: volume, persistentVolumeClaim: { claimName: store.pvc.claimName, ...readOnly } }],
      mounts: [{ name: volume, mountPath: SNAPSHOT_MOUNT, ...readOnly }],
    };
  const s3 = store.s3;
  if (!s3) throw new Error("the snapshot store sets neither pvc nor s3; set exactly one");
  const fromSecret = (key: string): V1EnvVar => ({
    name: key,
    valueFrom: { secretKeyRef: { name: s3.secretRef.name, key } },
  });
  const prefix = s3.prefix.replace(/^\/+|\/+$/g, "");
  return {
    args: ["--store", `s3://${s3.bucket}${prefix ? `/${prefix}` : ""}`, "--endpoint", s3.endpoint],
    env: [
      fromSecret("AWS_ACCESS_KEY_ID"),
      fromSecret("AWS_SECRET_ACCESS_KEY"),
      ...(s3.region ? [{ name: "AWS_REGION", value: s3.region }] : []),
    ],
    volumes: [],
    mounts: [],
  };
}

/** The pod of one snapshot run: `embedops <args> <store flags>` as the index's snapshot ServiceAccount. */
export function snapshotPodSpec(
  ctx: OwnerContext,
  index: string,
  args: readonly string[],
  store: SnapshotStore,
): V1PodSpec {
  const wiring = storeWiring(store);
  return {
    // One attempt per run: a failed run is an IndexSnapshot in phase Failed, and the next slot tries again.
    restartPolicy: "Never",
    serviceAccountName: snapshotRunnerName(index),
    securityContext: podSecurityContext(),
    // SIGTERM: the run records Failed; the store holds no top manifest, so restore refuses the copy.
    terminationGracePeriodSeconds: 30,
    containers: [
      {
        name: SNAPSHOT_ROLE,
        image: ctx.image,
        imagePullPolicy: "IfNotPresent",
        args: [...args, ...wiring.args],
        env: wiring.env,
        securityContext: containerSecurityContext(),
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }, ...wiring.mounts],
      },
    ],
    volumes: [{ name: "tmp", emptyDir: {} }, ...wiring.volumes],
  };
}
