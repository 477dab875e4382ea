// The Kubernetes half of moving a VectorIndex to a new generation (controllers/README.md
// "Generations"): what the generation machine is told (its inputs read from the cluster and from
// the GenerationProbe), and the removal of what its `desired` no longer lists (a rolled-back N+1, a
// retained N after retainPrevious, a finished backfill). The decisions are advanceGeneration's.
import type {
  KubernetesObject,
  V1ConfigMap,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StatefulSet,
} from "@kubernetes/client-node";
import type { VectorIndex } from "../../src/api/v1alpha1/index.js";
import type { IndexProps, OtherGeneration } from "../../src/builders/index-props.js";
import { withGeneration } from "../../src/builders/index-props.js";
import { LABEL, MANAGED_BY, routerSelector } from "../../src/builders/labels.js";
import { backfillName } from "../../src/builders/names.js";
import { HTTP_PORT } from "../../src/builders/pod-security.js";
import { encoderConfig, generationShards } from "../../src/builders/router-config.js";
import type {
  BackfillProgress,
  GenerationObservation,
  GenerationRolloutStatus,
} from "../../src/generation/generation-rollout.js";
import {
  GATE_DEFAULTS,
  type GoldenQuery,
  parseGoldenSet,
  probeGoldenSet,
} from "../../src/generation/golden-set.js";
import type { BackfillRecord } from "../../src/generation/progress.js";
import { describeError, isNotFound } from "../../src/kube/errors.js";
import type { ReconcileContext } from "../../src/kube/operator-runtime.js";
import { statefulSetState } from "../shared/conditions.js";
import type { ReconcilerDeps } from "../shared/deps.js";
import { JOB, STATEFUL_SET } from "../shared/resources.js";
import type { GateObservation, GenerationProbe } from "./generation-probe.js";

const selectorOf = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

/** Base URLs of the index's router pods that have an IP and are not being deleted. */
export async function routerUrls(deps: ReconcilerDeps, namespace: string, index: string): Promise<string[]> {
  const pods = await deps.objects.list<V1Pod>(
    "v1",
    "Pod",
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    selectorOf(routerSelector(index)),
  );
  return pods.items
    .filter((p) => p.status?.podIP && !p.metadata?.deletionTimestamp)
    .map((p) => `http://${p.status?.podIP}:${HTTP_PORT}`);
}

/** Every shard StatefulSet of `generation` exists (one per shard) and is rolled out; from the informer cache. */
export function generationShardsReady(
  context: ReconcileContext,
  namespace: string,
  index: string,
  generation: string,
  shards: number,
): boolean {
  const sets = context
    .cache<V1StatefulSet>(STATEFUL_SET)
    .list(namespace)
    .filter(
      (s) =>
        s.metadata?.labels?.[LABEL.index] === index &&
        s.metadata.labels[LABEL.generation] === generation &&
        s.metadata.labels[LABEL.role] === "shard",
    );
  return sets.length === shards && sets.every((s) => statefulSetState(s).rolledOut);
}

export function backfillProgressOf(record: BackfillRecord): BackfillProgress {
  return {
    done: record.done,
    total: record.total,
    withoutText: record.withoutText,
    finished: record.finished,
    ...(record.etaSeconds !== null ? { etaSeconds: Math.ceil(record.etaSeconds) } : {}),
  };
}

/** The golden set of spec.quality, or the probe texts (recall of ANN against exact needs no relevant ids); the move's gate and the restore check (restore-verify.ts) read it. */
export async function goldenSet(
  deps: ReconcilerDeps,
  namespace: string,
  vi: VectorIndex,
): Promise<{ golden: GoldenQuery[] } | { error: string }> {
  const ref = vi.spec.quality?.goldenSet.configMapRef;
  if (!ref) {
    return { golden: probeGoldenSet(vi.spec.rollout.probe.texts) };
  }
  try {
    const cm = (await deps.objects.read({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: ref.name, namespace },
    })) as V1ConfigMap;
    const text = cm.data?.[ref.key];
    if (text === undefined) {
      return {
        error: `ConfigMap "${ref.name}" has no key "${ref.key}"; fix spec.quality.goldenSet.configMapRef`,
      };
    }
    return { golden: parseGoldenSet(text) };
  } catch (err) {
    const why = isNotFound(err) ? "not found" : describeError(err);
    return {
      error: `cannot read the golden set (ConfigMap "${ref.name}" key "${ref.key}": ${why}); fix spec.quality.goldenSet`,
    };
  }
}

export interface ObserveInput {
  readonly deps: ReconcilerDeps;
  readonly context: ReconcileContext;
  readonly probe: GenerationProbe;
  readonly vi: VectorIndex;
  readonly namespace: string;
  /** The active generation (N), built as it runs. */
  readonly active: IndexProps;
  readonly status: GenerationRolloutStatus | undefined;
  /** How N+1 is built (its fingerprint and encoder). */
  readonly candidate: OtherGeneration | undefined;
}

/**
 * What the machine needs of the move in `status`, for its current phase only: shards and routers
 * while Building, the backfill record while Backfilling, the gate while Gating.
 */
export async function observeMove(
  o: ObserveInput,
): Promise<{ observed?: GenerationObservation; record?: BackfillRecord }> {
  const s = o.status;
  if (!s || !o.candidate) return {};
  const generation = s.candidateGeneration;
  const index = o.vi.metadata.name;
  const target = { namespace: o.namespace, index, generation };
  const n1 = withGeneration(o.active, o.candidate);
  switch (s.phase) {
    case "Building": {
      const shardsReady = generationShardsReady(o.context, o.namespace, index, generation, o.vi.spec.shards);
      const dualWriting =
        shardsReady &&
        (await o.probe.dualWriting({ ...target, routers: await routerUrls(o.deps, o.namespace, index) }));
      return { observed: { generation, shardsReady, dualWriting } };
    }
    case "Backfilling": {
      const shard0 = generationShards(n1, o.namespace)[0]?.replicas ?? [];
      const record = await o.probe.backfill({ ...target, shard0 });
      return record
        ? { observed: { generation, backfill: backfillProgressOf(record) }, record }
        : { observed: { generation } };
    }
    case "Gating": {
      const gate = await runGate(o, target, n1);
      return { observed: { generation, ...(gate ? { gate } : {}) } };
    }
    default:
      return {};
  }
}

async function runGate(
  o: ObserveInput,
  target: { namespace: string; index: string; generation: string },
  n1: IndexProps,
): Promise<GateObservation | undefined> {
  const golden = await goldenSet(o.deps, o.namespace, o.vi);
  if ("error" in golden) return { pass: false, message: golden.error };
  const gen = (p: IndexProps, name: string) => ({
    name,
    fingerprint: p.fingerprint,
    encoderUrl: (encoderConfig(p, o.namespace) as { url: string }).url,
    shards: generationShards(p, o.namespace),
  });
  return o.probe.gate({
    ...target,
    golden: golden.golden,
    k: o.vi.spec.quality?.k ?? GATE_DEFAULTS.k,
    minRecall: o.vi.spec.quality?.minRecall ?? GATE_DEFAULTS.minRecall,
    current: gen(o.active, o.status?.fromGeneration ?? ""),
    candidate: gen(n1, target.generation),
  });
}

/**
 * Children of generations the machine no longer lists (shard StatefulSets and their Services) and
 * backfill Jobs and plans not asked for, from the informer caches; each is checked again for our
 * controller reference before it is deleted.
 */
export function staleMoveChildren(
  context: ReconcileContext,
  namespace: string,
  index: string,
  keepGenerations: ReadonlySet<string>,
  keepBackfill: string | undefined,
): { kind: string; apiVersion: string; name: string; generation: string }[] {
  const out: { kind: string; apiVersion: string; name: string; generation: string }[] = [];
  for (const s of context.cache(STATEFUL_SET).list(namespace)) {
    const l = s.metadata?.labels;
    const g = l?.[LABEL.generation];
    if (l?.[LABEL.index] !== index || l[LABEL.role] !== "shard" || g === undefined || keepGenerations.has(g))
      continue;
    const name = s.metadata?.name ?? "";
    out.push({ kind: "StatefulSet", apiVersion: "apps/v1", name, generation: g });
    out.push({ kind: "Service", apiVersion: "v1", name, generation: g });
  }
  for (const j of context.cache(JOB).list(namespace)) {
    const l = j.metadata?.labels;
    const g = l?.[LABEL.generation];
    const name = j.metadata?.name ?? "";
    if (
      l?.[LABEL.index] !== index ||
      l[LABEL.role] !== "backfill" ||
      g === undefined ||
      name === keepBackfill
    )
      continue;
    out.push({ kind: "Job", apiVersion: "batch/v1", name, generation: g });
    out.push({ kind: "ConfigMap", apiVersion: "v1", name: backfillName(index, g), generation: g });
  }
  return out;
}

/**
 * Deletes each child this index controls (Background propagation: a Job's pods go with it), then
 * the claims of the generations whose shards went, unless spec.storage.retainOnDelete.
 */
export async function pruneMoveChildren(
  deps: ReconcilerDeps,
  namespace: string,
  ownerUid: string,
  index: string,
  stale: readonly { kind: string; apiVersion: string; name: string; generation: string }[],
  keepGenerations: ReadonlySet<string>,
  retainClaims: boolean,
): Promise<string[]> {
  const deleted: string[] = [];
  for (const child of stale) {
    let current: KubernetesObject;
    try {
      current = await deps.objects.read({
        apiVersion: child.apiVersion,
        kind: child.kind,
        metadata: { name: child.name, namespace },
      });
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    const ours = current.metadata?.ownerReferences?.some((r) => r.controller === true && r.uid === ownerUid);
    if (!ours) continue;
    try {
      await deps.objects.delete(current, undefined, undefined, undefined, undefined, "Background");
      deleted.push(`${child.kind}/${child.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  if (!retainClaims) deleted.push(...(await pruneClaims(deps, namespace, index, keepGenerations)));
  return deleted;
}

/**
 * PersistentVolumeClaims of the index's shards in generations no longer kept. The StatefulSets'
 * retention policy (whenDeleted: Delete) asks the StatefulSet controller for the same; deleting
 * them here also covers claims whose StatefulSet was deleted by hand with --cascade=orphan.
 */
async function pruneClaims(
  deps: ReconcilerDeps,
  namespace: string,
  index: string,
  keepGenerations: ReadonlySet<string>,
): Promise<string[]> {
  const claims = await deps.objects.list<V1PersistentVolumeClaim>(
    "v1",
    "PersistentVolumeClaim",
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    selectorOf({ [LABEL.index]: index, [LABEL.role]: "shard", [LABEL.managedBy]: MANAGED_BY }),
  );
  const deleted: string[] = [];
  for (const claim of claims.items) {
    const g = claim.metadata?.labels?.[LABEL.generation];
    if (g === undefined || keepGenerations.has(g) || claim.metadata?.deletionTimestamp) continue;
    try {
      await deps.objects.delete({ ...claim, apiVersion: "v1", kind: "PersistentVolumeClaim" });
      deleted.push(`PersistentVolumeClaim/${claim.metadata?.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return deleted;
}
