// VectorIndex -> per shard of the generation, a StatefulSet: `replicas` copies, each with its own
// PersistentVolumeClaim (the shard's SQLite database and HNSW checkpoints).
import type { V1StatefulSet } from "@kubernetes/client-node";
import { hnswArgs } from "../core/role-args.js";
import { childMeta, type OwnerContext } from "./context.js";
import { generationOf, type IndexProps } from "./index-props.js";
import { shardSelector, withCommon } from "./labels.js";
import { shardSetName } from "./names.js";
import {
  containerSecurityContext,
  HTTP_PORT,
  HTTP_PORT_NAME,
  livenessProbe,
  podSecurityContext,
  readinessProbe,
} from "./pod-security.js";

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
          containers: [
            {
              name: "shard",
              image: ctx.image,
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
