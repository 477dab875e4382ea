// Every child a VectorIndex needs, in apply order: shards of each generation that runs (headless
// Service first, so pod DNS exists when the StatefulSet starts; the active generation, N+1 while
// the index moves, N while it is retained after a promotion), the NetworkPolicy, the router's config
// before the router that mounts it, then the backfill's plan before its Job, then spec.snapshot's
// runner identity and CronJob (snapshot-cronjob.ts; removed with the schedule). The generated auth
// Secret is not among them: its key is random, so the reconcile creates it once
// (src/builders/router-auth.ts) instead of applying it every time.

import { backfillConfigMap, backfillJob } from "./backfill-job.js";
import type { OwnerContext } from "./context.js";
import {
  generationOf,
  type IndexGenerations,
  type IndexProps,
  shardsOf,
  withGeneration,
} from "./index-props.js";
import type { DesiredChildren } from "./model-children.js";
import { routerConfigMap } from "./router-config.js";
import { routerDeployment } from "./router-deployment.js";
import { routerService } from "./router-service.js";
import { shardNetworkPolicy } from "./shard-network-policy.js";
import { shardService } from "./shard-service.js";
import { shardStatefulSet } from "./shard-statefulset.js";
import { snapshotCronJob } from "./snapshot-cronjob.js";
import { snapshotRoleBinding, snapshotRunnerName, snapshotServiceAccount } from "./snapshot-runner.js";

/** The shard Services and StatefulSets of the generation `props` describes. */
export function generationChildren(ctx: OwnerContext, props: IndexProps) {
  const generation = generationOf(props);
  return shardsOf(props).flatMap((shard) => [
    shardService(ctx, props.index, generation, shard),
    shardStatefulSet(ctx, { ...props, shard }),
  ]);
}

export function indexChildren(
  ctx: OwnerContext,
  props: IndexProps,
  generations: IndexGenerations = {},
): DesiredChildren {
  const { candidate } = generations;
  const others = [...(generations.retained ?? []), ...(candidate ? [candidate] : [])];
  return {
    present: [
      ...generationChildren(ctx, props),
      ...others.flatMap((g) => generationChildren(ctx, withGeneration(props, g))),
      shardNetworkPolicy(ctx, props.index),
      routerConfigMap(ctx, props, generations),
      routerService(ctx, props.index),
      routerDeployment(ctx, { index: props.index, spec: props.spec, encoderAuth: props.encoderAuth }),
      ...(candidate && generations.backfill
        ? [backfillConfigMap(ctx, props, candidate), backfillJob(ctx, props, candidate)]
        : []),
      ...snapshotChildren(ctx, props).present,
    ],
    absent: snapshotChildren(ctx, props).absent,
  };
}

/** The runner's ServiceAccount and RoleBinding while spec.snapshot is set (hand-applied runs use them too), the CronJob while it has a schedule. */
function snapshotChildren(ctx: OwnerContext, props: IndexProps): DesiredChildren {
  const policy = props.spec.snapshot;
  const name = snapshotRunnerName(props.index);
  const cronJob = snapshotCronJob(ctx, props.index, policy);
  const runner = policy
    ? [snapshotServiceAccount(ctx, props.index), snapshotRoleBinding(ctx, props.index)]
    : [];
  return {
    present: [...runner, ...(cronJob ? [cronJob] : [])],
    absent: [
      ...(cronJob ? [] : [{ apiVersion: "batch/v1", kind: "CronJob", name }]),
      ...(policy
        ? []
        : [
            { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", name },
            { apiVersion: "v1", kind: "ServiceAccount", name },
          ]),
    ],
  };
}
