// VectorIndex -> a NetworkPolicy that admits to its shard pods (all generations) only the index's
// router pods, its backfill Job's pods (they copy N into N+1 while the index moves to a new
// generation), its snapshot pods (spec.snapshot's CronJob and IndexSnapshot Jobs ask each shard for
// its copy), the index's other shard pods (a new replica copies a peer of its shard: seed and
// catch-up, controllers/vector-index/replica-seeding.ts) and the embedops operator's pods (the
// recall gate asks N+1's shards for ANN and exact results): shards have no auth of their own, so
// the network is their boundary. Kubelet probes come from the node and are not subject to it.
import type { V1NetworkPolicy } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { APP_NAME, allShardsSelector, LABEL, withCommon } from "./labels.js";
import { shardNetworkPolicyName } from "./names.js";
import { HTTP_PORT } from "./pod-security.js";

export function shardNetworkPolicy(ctx: OwnerContext, index: string): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: childMeta(
      ctx,
      shardNetworkPolicyName(index),
      withCommon({ [LABEL.instance]: index, [LABEL.index]: index }, ctx.ownerLabels),
    ),
    spec: {
      podSelector: { matchLabels: allShardsSelector(index) },
      policyTypes: ["Ingress"],
      ingress: [
        {
          // `_from`: the client model's name for `from` (a reserved word in its generator); it serializes as `from`.
          _from: [
            { podSelector: { matchLabels: { [LABEL.index]: index, [LABEL.role]: "router" } } },
            { podSelector: { matchLabels: { [LABEL.index]: index, [LABEL.role]: "backfill" } } },
            { podSelector: { matchLabels: { [LABEL.index]: index, [LABEL.role]: "snapshot" } } },
            // A new replica's seed init container copies a peer, and its catch-up reads the peer's rows.
            { podSelector: { matchLabels: allShardsSelector(index) } },
            {
              // The chart's operator Deployment (charts/embedops/templates/_helpers.tpl), any namespace.
              namespaceSelector: {},
              podSelector: { matchLabels: { [LABEL.name]: APP_NAME, [LABEL.component]: "operator" } },
            },
          ],
          ports: [{ protocol: "TCP", port: HTTP_PORT }],
        },
      ],
    },
  };
}
