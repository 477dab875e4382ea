// Child object names: deterministic, within Kubernetes' length limits, readable where possible.
import { textHash } from "./hash.js";

/** DNS-1123 label limit: Services, and every name that becomes a label value. */
export const MAX_NAME = 63;

/**
 * StatefulSet names must leave room for the `controller-revision-hash` label the StatefulSet
 * controller writes (`<name>-<10 chars>`, itself a label value of at most 63): 63 - 11 = 52.
 */
export const MAX_STATEFULSET_NAME = 52;

/**
 * `<prefix>-<suffix>` when it fits in `max`; otherwise the prefix is shortened and a hash of the
 * full name keeps it unique: `<prefix[:k]>-<hash8>-<suffix>`. The suffix stays whole because it
 * carries the meaning (generation, shard, role) an operator looks for in `kubectl get`.
 */
export function childName(prefix: string, suffix: string, max = MAX_NAME): string {
  const full = `${prefix}-${suffix}`;
  if (full.length <= max) return full;
  const hash = textHash(full);
  const room = max - suffix.length - hash.length - 2;
  if (room < 1) {
    throw new Error(`cannot fit "${full}" into ${max} characters: the suffix "${suffix}" alone is too long`);
  }
  const head = prefix.slice(0, room).replace(/-+$/, "");
  return `${head}-${hash}-${suffix}`;
}

export const encoderName = (model: string): string => childName(model, "encoder");
/** `<model>-encoder-<revision>`: one encoder revision's Deployment and Service. */
export const encoderRevisionName = (model: string, revision: string): string =>
  childName(model, `encoder-${revision}`);
export const routerName = (index: string): string => childName(index, "router");
export const shardNetworkPolicyName = (index: string): string => childName(index, "shards");

/** `<index>-<generation>-<shard>`, also the name of the shard's headless Service. */
export const shardSetName = (index: string, generation: string, shard: string): string =>
  childName(index, `${generation}-${shard}`, MAX_STATEFULSET_NAME);

/** `<index>-backfill-<generation>`: the Job that fills a generation, and its plan ConfigMap. */
export const backfillName = (index: string, generation: string): string =>
  childName(index, `backfill-${generation}`);
