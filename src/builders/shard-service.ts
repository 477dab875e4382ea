// VectorIndex -> per shard, the headless Service that gives each StatefulSet pod a stable DNS name
// (<sts>-<i>.<svc>.<ns>.svc) for the router's replica list.
import type { V1Service } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { shardSelector, withCommon } from "./labels.js";
import { shardSetName } from "./names.js";
import { HTTP_PORT, HTTP_PORT_NAME } from "./pod-security.js";

export function shardService(ctx: OwnerContext, index: string, generation: string, shard: string): V1Service {
  const selector = shardSelector(index, generation, shard);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(ctx, shardSetName(index, generation, shard), withCommon(selector, ctx.ownerLabels)),
    spec: {
      clusterIP: "None",
      // The router probes each replica's /readyz itself; DNS names must exist before readiness so
      // a replica that is loading its checkpoint is known and retried, not unknown.
      publishNotReadyAddresses: true,
      selector,
      ports: [{ name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" }],
    },
  };
}

/** URL of replica `i` of a shard StatefulSet, through its headless Service. */
export function shardReplicaUrl(
  index: string,
  generation: string,
  shard: string,
  replica: number,
  namespace: string,
): string {
  const name = shardSetName(index, generation, shard);
  return `http://${name}-${replica}.${name}.${namespace}.svc:${HTTP_PORT}`;
}
