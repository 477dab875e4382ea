// VectorIndex -> per shard of the generation, a StatefulSet: `replicas` copies, each with its own
// PersistentVolumeClaim (the shard's SQLite database and HNSW checkpoints). Every pod runs the `seed`
// init container first: a replica added later copies replica 0 before it starts (seedContainer). A
// generation filled from a snapshot (spec.restore) also gets an init container, before the seed, that
// lays the snapshot out in an empty data dir (withShardRestore).
import type { V1Container, V1StatefulSet } from "@kubernetes/client-node";
import type { SnapshotStore } from "../api/v1alpha1/index.js";
import { hnswArgs } from "../core/role-args.js";
import { childMeta, type OwnerContext } from "./context.js";
import { generationOf, type IndexProps } from "./index-props.js";
import { LABEL, shardSelector, withCommon } from "./labels.js";
import { shardSetName } from "./names.js";
import {
  containerSecurityContext,
  HTTP_PORT,
  HTTP_PORT_NAME,
  livenessProbe,
  podSecurityContext,
  readinessProbe,
} from "./pod-security.js";
import { SNAPSHOT_MOUNT, storeWiring } from "./snapshot-runner.js";

export const DATA_MOUNT = "/data";

export interface ShardStatefulSetProps extends IndexProps {
  readonly shard: string;
  /** Seconds for a shard to checkpoint on SIGTERM. Default 60: a checkpoint writes the whole graph. */
  readonly terminationGracePeriodSeconds?: number;
}

export function shardStatefulSet(ctx: OwnerContext, props: ShardStatefulSetProps): V1StatefulSet {
  const { index, spec, shard } = props;
  const generation = generationOf(props);
  const name = shardSetName(index, generation, shard);
  const selector = shardSelector(index, generation, shard);
  const labels = withCommon(selector, ctx.ownerLabels);
  const image = ctx.image;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: childMeta(ctx, name, labels),
    spec: {
      serviceName: name,
      replicas: spec.replicas,
      // Replicas are independent copies, not a quorum that must form in order.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate" },
      // Deleting the index (or pruning a generation) deletes its volumes unless the spec keeps them:
      // orphaned claims would otherwise come back as stale data under a re-created index of the same
      // name. A scale-down keeps them, so scaling up again finds the replica's data.
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: spec.storage.retainOnDelete ? "Retain" : "Delete",
        whenScaled: "Retain",
      },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? 60,
          affinity: {
            podAntiAffinity: {
              // Preferred, not required: a small cluster still runs every replica, a big one spreads them.
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchLabels: selector },
                    topologyKey: "kubernetes.io/hostname",
                  },
                },
              ],
            },
          },
          // In every template from the start, not added when spec.replicas goes up: a template change
          // rolls the serving pods, and replica 0 restarting refuses writes under writeQuorum all.
          initContainers: [seedContainer(image, name, ctx.namespace, props.fingerprint)],
          containers: [
            {
              name: "shard",
              image,
              imagePullPolicy: "IfNotPresent",
              args: [
                "shard",
                "--data-dir",
                DATA_MOUNT,
                "--dimension",
                String(props.dimension),
                "--metric",
                spec.metric,
                "--fingerprint",
                props.fingerprint,
                "--shard-id",
                `${index}/${generation}/${shard}`,
                ...hnswArgs(spec.hnsw),
                "--host",
                "0.0.0.0",
                "--port",
                String(HTTP_PORT),
              ],
              ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" }],
              readinessProbe: readinessProbe(),
              livenessProbe: livenessProbe(),
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: "data", mountPath: DATA_MOUNT },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels },
          spec: {
            accessModes: ["ReadWriteOnce"],
            resources: { requests: { storage: String(spec.storage.size) } },
            ...(spec.storage.storageClassName ? { storageClassName: spec.storage.storageClassName } : {}),
          },
        },
      ],
    },
  };
}

/** Where spec.snapshot.store.pvc is mounted (read-only) in a restoring shard pod. */
export const RESTORE_STORE_MOUNT = SNAPSHOT_MOUNT;

/** The snapshot a generation is filled from (controllers/vector-index/restore-plan.ts). */
export interface ShardRestore {
  /** IndexSnapshot name. */
  readonly snapshot: string;
  /** The index it copies: its files are under <prefix>/<fromIndex>/<snapshot>/ in the store. */
  readonly fromIndex: string;
  /** The generation's fingerprint; the restore refuses a snapshot of another. */
  readonly fingerprint: string;
  readonly store: SnapshotStore;
}

/**
 * `set` with an init container running `embedops snapshot restore-shard` for its shard (the number in
 * its embedops.dev/shard label) out of `shards`, before the seed container: it fills an empty data
 * dir from the snapshot after checking every file's sha256, and leaves a data dir that holds data
 * alone, so a restarted pod never restores over newer writes (and the seed then finds a database and
 * copies nothing). S3 credentials come from the store's Secret through secretKeyRef; a PVC store is
 * mounted read-only.
 */
export function withShardRestore(set: V1StatefulSet, restore: ShardRestore, shards: number): V1StatefulSet {
  const pod = set.spec?.template.spec;
  const main = pod?.containers[0];
  const label = set.metadata?.labels?.[LABEL.shard] ?? "";
  const shard = /^shard-(\d+)$/.exec(label)?.[1];
  if (!set.spec || !pod || !main || shard === undefined)
    throw new Error(`StatefulSet ${set.metadata?.name} is not a shard StatefulSet (shard label "${label}")`);
  const store = storeWiring(restore.store, { volume: "snapshot-store", readOnly: true });
  return {
    ...set,
    spec: {
      ...set.spec,
      template: {
        ...set.spec.template,
        spec: {
          ...pod,
          initContainers: [
            {
              name: "restore",
              image: main.image,
              imagePullPolicy: main.imagePullPolicy,
              args: [
                ...["snapshot", "restore-shard", "--snapshot", restore.snapshot],
                ...["--from-index", restore.fromIndex, "--shard", shard, "--shards", String(shards)],
                ...["--fingerprint", restore.fingerprint, "--data-dir", DATA_MOUNT],
                ...store.args,
              ],
              env: store.env,
              securityContext: main.securityContext,
              volumeMounts: [
                { name: "data", mountPath: DATA_MOUNT },
                { name: "tmp", mountPath: "/tmp" },
                ...store.mounts,
              ],
            },
            ...(pod.initContainers ?? []),
          ],
          volumes: [...(pod.volumes ?? []), ...store.volumes],
        },
      },
    },
  };
}

/**
 * The `seed` init container of the StatefulSet `name`: `embedops snapshot seed-replica` copies replica
 * 0 (or another lower ordinal) of its shard over HTTP into an empty data dir of a pod whose ordinal is
 * not 0, and exits non-zero while no peer gives a copy. Ordinal 0 and a data dir that holds a database
 * are left alone, so it is a no-op for every pod but a new (or emptied) replica. Its args depend on
 * neither spec.replicas nor the ordinal: scaling never changes the pod template, so it never rolls
 * the serving pods.
 */
function seedContainer(image: string, name: string, namespace: string, fingerprint: string): V1Container {
  const peerTemplate = `http://${name}-{ordinal}.${name}.${namespace}.svc:${HTTP_PORT}`;
  return {
    name: "seed",
    image,
    imagePullPolicy: "IfNotPresent",
    args: [
      ...["snapshot", "seed-replica", "--data-dir", DATA_MOUNT],
      ...["--fingerprint", fingerprint, "--peer-template", peerTemplate],
    ],
    securityContext: containerSecurityContext(),
    volumeMounts: [
      { name: "data", mountPath: DATA_MOUNT },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
}
