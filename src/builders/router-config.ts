// VectorIndex -> the router's configuration (src/router/config.ts) in a ConfigMap: the inline
// one-generation shape, or the list shape with an active and a candidate generation while the index
// moves to a new model fingerprint (every write to both, queryWeight % of queries to the candidate).
// The router watches the mounted file and reloads it, so a change (more replicas, a candidate
// generation, a promotion) reaches running routers without a restart.
import type { V1ConfigMap } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderRevisionUrl, encoderUrl } from "./encoder-service.js";
import {
  generationOf,
  type IndexGenerations,
  type IndexProps,
  shardsOf,
  withGeneration,
} from "./index-props.js";
import { routerSelector, withCommon } from "./labels.js";
import { routerName } from "./names.js";
import { shardReplicaUrl } from "./shard-service.js";

export const ROUTER_CONFIG_KEY = "router.json";

/** Each shard of the generation `props` describes, with its replicas' URLs (router config and backfill plan). */
export function generationShards(
  props: IndexProps,
  namespace: string,
): { name: string; replicas: string[] }[] {
  const generation = generationOf(props);
  return shardsOf(props).map((shard) => ({
    name: shard,
    replicas: Array.from({ length: props.spec.replicas }, (_, r) =>
      shardReplicaUrl(props.index, generation, shard, r, namespace),
    ),
  }));
}

function generationFields(props: IndexProps, namespace: string): Record<string, unknown> {
  return {
    fingerprint: props.fingerprint,
    dimension: props.dimension,
    metric: props.spec.metric,
    encoder: encoderConfig(props, namespace),
    shards: withSyncing(props, generationShards(props, namespace)),
  };
}

/**
 * Each shard's replicas being seeded (props.syncing) as its `syncing` list: the router writes to
 * them and queries the others. A shard without any keeps the config as it was.
 */
function withSyncing(
  props: IndexProps,
  shards: { name: string; replicas: string[] }[],
): { name: string; replicas: string[]; syncing?: string[] }[] {
  const s = props.syncing;
  if (!s || s.generation !== generationOf(props)) return shards;
  return shards.map((shard) => {
    const ordinals = s.replicas.get(shard.name) ?? [];
    const syncing = ordinals.flatMap((r) => (shard.replicas[r] === undefined ? [] : [shard.replicas[r]]));
    return syncing.length > 0 ? { ...shard, syncing } : shard;
  });
}

/**
 * The router config object; keys in a fixed order so the ConfigMap text is byte-stable. With a
 * candidate in the routers, the list shape: the active generation first, the candidate second.
 */
export function routerConfigJson(
  props: IndexProps,
  namespace: string,
  generations: IndexGenerations = {},
): Record<string, unknown> {
  const { index, spec } = props;
  const generation = generationOf(props);
  const c = generations.candidate;
  const candidate = c?.inRouters === true ? withGeneration(props, c) : undefined;
  const served =
    c && candidate
      ? {
          generations: [
            { name: generation, role: "active", ...generationFields(props, namespace) },
            {
              name: generationOf(candidate),
              role: "candidate",
              queryWeight: c.queryWeight,
              ...generationFields(candidate, namespace),
            },
          ],
        }
      : { generation, ...generationFields(props, namespace) };
  return {
    index,
    ...served,
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
export function encoderConfig(props: IndexProps, namespace: string): Record<string, unknown> {
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

export function routerConfigMap(
  ctx: OwnerContext,
  props: IndexProps,
  generations: IndexGenerations = {},
): V1ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMeta(
      ctx,
      routerName(props.index),
      withCommon(routerSelector(props.index), ctx.ownerLabels),
    ),
    data: {
      [ROUTER_CONFIG_KEY]: `${JSON.stringify(routerConfigJson(props, ctx.namespace, generations), null, 2)}\n`,
    },
  };
}
