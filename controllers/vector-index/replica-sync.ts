// One reconcile's replica seeding, the shell around replica-seeding.ts: observe the new replicas of
// the active generation (replica-io.ts), decide, start the catch-ups it asks for. The reconciler
// lists the syncing replicas in the router config (the shard StatefulSets carry the seed init
// container from the start), records the step in status.replicaSync and requeues.
import type { VectorIndexStatus } from "../../src/api/v1alpha1/index.js";
import type { IndexProps, SyncingReplicas } from "../../src/builders/index-props.js";
import { generationOf, shardsOf } from "../../src/builders/index-props.js";
import { shardReplicaUrl } from "../../src/builders/shard-service.js";
import { describeError } from "../../src/kube/errors.js";
import type { ReconcilerDeps } from "../shared/deps.js";
import { routerUrls } from "./generation-move.js";
import type { ReplicaIo } from "./replica-io.js";
import {
  type ReplicaObservation,
  type ReplicaSeedingStep,
  type ReplicaSyncStatus,
  replicaKey,
  replicaSeedingStep,
  startingStatus,
} from "./replica-seeding.js";

/**
 * The routers' /metrics say they run a config with the replica, not that no write begun under the
 * older config is still running (their /v1/stats does, behind the API key the operator does not
 * hold). Such a write ends within the router's shard timeout: the catch-up waits twice that after
 * the routers were first seen listing the replica.
 */
function settled(
  o: ReplicaObservation,
  key: string,
  i: { readonly listedSince: Map<string, number>; readonly now: number; readonly props: IndexProps },
): ReplicaObservation {
  if (!o.routersWriteToIt) {
    i.listedSince.delete(key);
    return o;
  }
  const since = i.listedSince.get(key) ?? i.now;
  i.listedSince.set(key, since);
  const graceMs = 2 * i.props.spec.router.timeoutMs;
  if (i.now - since >= graceMs) return o;
  return {
    ...o,
    routersWriteToIt: false,
    routersWhy: `every router lists it; waiting ${graceMs} ms (twice spec.router.timeoutMs) for writes begun under the older config to end`,
  };
}

/** Requeue while a new replica is not Synced. */
export const REPLICA_SYNC_POLL_MS = 2000;

export interface ReplicaSyncResult {
  readonly step: ReplicaSeedingStep;
  readonly syncing: SyncingReplicas;
  /** Replicas that became Synced in this reconcile, e.g. "shard-0/1". */
  readonly synced: readonly string[];
}

export async function syncReplicas(i: {
  readonly deps: ReconcilerDeps;
  readonly io: ReplicaIo;
  readonly namespace: string;
  readonly props: IndexProps;
  readonly previous: VectorIndexStatus["replicaSync"];
  /** The replica count the generation's shard StatefulSets run now (the fewest); undefined: none exist. */
  readonly running: number | undefined;
  /** When the routers were first seen listing each new replica (the reconciler's memory), by key. */
  readonly listedSince: Map<string, number>;
  readonly now: number;
}): Promise<ReplicaSyncResult> {
  const { deps, io, namespace, props } = i;
  const generation = generationOf(props);
  const shards = shardsOf(props);
  const desired = props.spec.replicas;
  const recorded = i.previous as ReplicaSyncStatus | undefined;
  const previous = startingStatus(recorded, generation, desired, i.running);
  const url = (shard: string, replica: number) =>
    shardReplicaUrl(props.index, generation, shard, replica, namespace);

  const observed = new Map<string, ReplicaObservation>();
  if (previous && desired > previous.servingReplicas) {
    const synced = new Set(
      previous.replicas.filter((r) => r.phase === "Synced").map((r) => replicaKey(r.shard, r.replica)),
    );
    const routers = await routerUrls(deps, namespace, props.index);
    for (const shard of shards)
      for (let replica = previous.servingReplicas; replica < desired; replica++) {
        const key = replicaKey(shard, replica);
        if (!synced.has(key))
          observed.set(
            key,
            settled(
              await io.observe({ url: url(shard, replica), routers }),
              `${namespace}/${props.index}/${key}`,
              i,
            ),
          );
      }
  }
  const step = replicaSeedingStep({ generation, shards, desired, previous, observed });
  for (const s of step.startSync) {
    try {
      await io.startSync(url(s.shard, s.replica), url(s.shard, s.fromReplica), s.afterSeq);
      deps.log.info("replica catch-up started", { index: props.index, ...s });
    } catch (err) {
      deps.log.warn("replica catch-up did not start; retried", {
        index: props.index,
        ...s,
        err: describeError(err),
      });
    }
  }
  const before = new Set(
    (previous?.replicas ?? []).filter((r) => r.phase === "Synced").map((r) => replicaKey(r.shard, r.replica)),
  );
  const synced = step.status.replicas
    .filter((r) => r.phase === "Synced" && !before.has(replicaKey(r.shard, r.replica)))
    .map((r) => replicaKey(r.shard, r.replica));
  return { step, syncing: { generation, replicas: step.syncing }, synced };
}
