// Every child a VectorIndex generation needs, in apply order: shards (headless Service first, so
// pod DNS exists when the StatefulSet starts), the NetworkPolicy, then the router's config before
// the router that mounts it. The generated auth Secret is not among them: its key is random, so the
// reconcile creates it once (src/builders/router-auth.ts) instead of applying it every time.
import type { OwnerContext } from "./context.js";
import { generationOf, type IndexProps, shardsOf } from "./index-props.js";
import type { DesiredChildren } from "./model-children.js";
import { routerConfigMap } from "./router-config.js";
import { routerDeployment } from "./router-deployment.js";
import { routerService } from "./router-service.js";
import { shardNetworkPolicy } from "./shard-network-policy.js";
import { shardService } from "./shard-service.js";
import { shardStatefulSet } from "./shard-statefulset.js";

export function indexChildren(ctx: OwnerContext, props: IndexProps): DesiredChildren {
  const generation = generationOf(props);
  const shards = shardsOf(props).flatMap((shard) => [
    shardService(ctx, props.index, generation, shard),
    shardStatefulSet(ctx, { ...props, shard }),
  ]);
  return {
    present: [
      ...shards,
      shardNetworkPolicy(ctx, props.index),
      routerConfigMap(ctx, props),
      routerService(ctx, props.index),
      routerDeployment(ctx, { index: props.index, spec: props.spec, encoderAuth: props.encoderAuth }),
    ],
    absent: [],
  };
}
