// Labels every child carries: the app.kubernetes.io recommended set (so dashboards and `kubectl get
// -l` work as for any other workload) plus embedops.dev/* for our own selectors.
//
// Selector labels are a strict subset that never changes for the life of a child: Deployment and
// StatefulSet selectors are immutable, so anything a user may edit (part-of) stays out of them.

export const LABEL = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  managedBy: "app.kubernetes.io/managed-by",
  partOf: "app.kubernetes.io/part-of",
  model: "embedops.dev/model",
  index: "embedops.dev/index",
  generation: "embedops.dev/generation",
  shard: "embedops.dev/shard",
  role: "embedops.dev/role",
  revision: "embedops.dev/revision",
} as const;

export const APP_NAME = "embedops";
export const MANAGED_BY = "embedops";

export type Role = "encoder" | "shard" | "router" | "backfill";

export type Labels = Record<string, string>;

/** The part-of value: the owner's own app.kubernetes.io/part-of label if set, else "embedops". */
export function partOf(ownerLabels: Readonly<Record<string, string>> | undefined): string {
  return ownerLabels?.[LABEL.partOf] ?? APP_NAME;
}

export function encoderSelector(model: string): Labels {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: model,
    [LABEL.component]: "encoder",
    [LABEL.model]: model,
    [LABEL.role]: "encoder",
  };
}

/**
 * One encoder revision's pods (src/rollout/revision.ts): what its Deployment and its own Service
 * select. The model's main Service selects encoderSelector, i.e. every revision.
 */
export function encoderRevisionSelector(model: string, revision: string): Labels {
  return { ...encoderSelector(model), [LABEL.revision]: revision };
}

export function shardSelector(index: string, generation: string, shard: string): Labels {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: index,
    [LABEL.component]: "shard",
    [LABEL.index]: index,
    [LABEL.generation]: generation,
    [LABEL.shard]: shard,
    [LABEL.role]: "shard",
  };
}

export function routerSelector(index: string): Labels {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: index,
    [LABEL.component]: "router",
    [LABEL.index]: index,
    [LABEL.role]: "router",
  };
}

/** The backfill Job's pods that fill `generation` of an index (and its plan ConfigMap). */
export function backfillSelector(index: string, generation: string): Labels {
  return {
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: index,
    [LABEL.component]: "backfill",
    [LABEL.index]: index,
    [LABEL.generation]: generation,
    [LABEL.role]: "backfill",
  };
}

/** Every shard pod of an index, all generations: what the NetworkPolicy protects. */
export function allShardsSelector(index: string): Labels {
  return { [LABEL.index]: index, [LABEL.role]: "shard" };
}

/** Selector labels plus the ones that may change (managed-by, part-of). */
export function withCommon(
  selector: Labels,
  ownerLabels: Readonly<Record<string, string>> | undefined,
): Labels {
  return { ...selector, [LABEL.managedBy]: MANAGED_BY, [LABEL.partOf]: partOf(ownerLabels) };
}

/** Label selector string for list calls: every child the operator manages. */
export const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;
