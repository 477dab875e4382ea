// VectorIndex -> the router's configuration (src/router/config.ts, the inline one-generation shape)
// in a ConfigMap. The router watches the mounted file and reloads it, so a change (more replicas)
// reaches running routers without a restart.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderRevisionUrl, encoderUrl } from "./encoder-service.js";
import { generationOf, type IndexProps, shardsOf } from "./index-props.js";
import { routerSelector, withCommon } from "./labels.js";
import { routerName } from "./names.js";
import { shardReplicaUrl } from "./shard-service.js";

export const ROUTER_CONFIG_KEY = "router.json";

/** The router config object; keys in a fixed order so the ConfigMap text is byte-stable. */
export function routerConfigJson(props: IndexProps, namespace: string): Record<string, unknown> {
  const { index, spec } = props;
  const generation = generationOf(props);
  return {
    index,
    generation,
    fingerprint: props.fingerprint,
    dimension: props.dimension,
    metric: spec.metric,
    encoder: encoderConfig(props, namespace),
    shards: shardsOf(props).map((shard) => ({
      name: shard,
      replicas: Array.from({ length: spec.replicas }, (_, r) =>
        shardReplicaUrl(index, generation, shard, r, namespace),
      ),
    })),
    timeoutMs: spec.router.timeoutMs,
    writeQuorum: spec.writeQuorum ?? "all",
    // The router hedges from its own latency window; the spec's percentile switches it on or off.
    hedge: { enabled: spec.router.hedgeAfterPercentile !== undefined },
  };
}

/**
 * The stable revision's own Service, and the canary's beside it with its weight: the router splits
 * exactly by weight (the model's main Service would split by replica ratio).
 */
function encoderConfig(props: IndexProps, namespace: string): Record<string, unknown> {
  const e = props.encoder;
  if (!e) return { url: encoderUrl(props.model, namespace) };
  return {
    url: encoderRevisionUrl(props.model, e.revision, namespace),
    revision: e.revision,
    ...(e.canary && e.canary.weight > 0 && e.canary.revision !== e.revision
      ? {
          canary: {
            url: encoderRevisionUrl(props.model, e.canary.revision, namespace),
            revision: e.canary.revision,
            weight: e.canary.weight,
          },
        }
      : {}),
  };
}

export function routerConfigMap(ctx: OwnerContext, props: IndexProps): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMeta(
      ctx,
      routerName(props.index),
      withCommon(routerSelector(props.index), ctx.ownerLabels),
    ),
    data: { [ROUTER_CONFIG_KEY]: `${JSON.stringify(routerConfigJson(props, ctx.namespace), null, 2)}\n` },
  };
}
