// VectorIndex -> auth Secret, shard StatefulSets, headless Services, router, NetworkPolicy and status, in
// kubebuilder's order. The model is resolved first: without its fingerprint there is no generation
// to build, and the reason becomes a condition (ModelNotFound, DimensionMismatch, ...).
//
// Generations: every reconcile calls the pure generation machine (src/generation/generation-rollout.ts)
// with the generation in status (active), the one the model asks for (target: its candidate while the
// model's rollout holds it at NewGenerationRequired, else its stable fingerprint) and what was
// observed of the move (generation-move.ts), then applies its `desired`: both generations' shards
// while a candidate exists, the router config with both, the backfill Job, and removes what it no
// longer lists (controllers/README.md "Generations").
import type { KubernetesObject, V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import {
  type EmbeddingModel,
  parseDurationMs,
  type VectorIndex,
  type VectorIndexStatus,
} from "../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../src/builders/context.js";
import { indexChildren } from "../../src/builders/index-children.js";
import {
  type EncoderRouting,
  type IndexGenerations,
  type IndexProps,
  shardsOf,
  withReplicas,
} from "../../src/builders/index-props.js";
import { LABEL } from "../../src/builders/labels.js";
import { backfillName, routerName, shardSetName } from "../../src/builders/names.js";
import { withShardRestore } from "../../src/builders/shard-statefulset.js";
import { generationName } from "../../src/core/generation.js";
import {
  advanceGeneration,
  type GenerationRef,
  type GenerationRolloutStatus,
  generationCheckDue,
  isMoving,
} from "../../src/generation/generation-rollout.js";
import { describeError } from "../../src/kube/errors.js";
import { keyOf } from "../../src/kube/keys.js";
import type { Controller, ReconcileContext, ReconcileResult } from "../../src/kube/operator-runtime.js";
import { controllerReference } from "../../src/kube/owner.js";
import {
  parseRolloutCommand,
  ROLLOUT_COMMAND_ANNOTATION,
  type RolloutCommand,
} from "../../src/rollout/command.js";
import { MIN_INTERVAL_ENV } from "../embedding-model/reconciler.js";
import { childId, convergeChildren } from "../shared/children.js";
import { statefulSetState } from "../shared/conditions.js";
import { type ControllerOptions, depsFrom, type ReconcilerDeps, rfc3339 } from "../shared/deps.js";
import { handleDeletion, readPrimary } from "../shared/primary.js";
import {
  EMBEDDING_MODEL,
  INDEX_CHILDREN,
  INDEX_SNAPSHOT,
  STATEFUL_SET,
  VECTOR_INDEX,
} from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";
import { writeStatus } from "../shared/write-status.js";
import { ensureAuthSecret } from "./auth-secret.js";
import { observeMove, pruneMoveChildren, routerUrls, staleMoveChildren } from "./generation-move.js";
import { type GenerationProbe, httpGenerationProbe } from "./generation-probe.js";
import { lastSnapshotOf } from "./last-snapshot.js";
import { snapshotWatch } from "./last-snapshot-watch.js";
import { modelWatch } from "./model-watch.js";
import { backfillProgress, failedMove, generationEntries } from "./move-status.js";
import { generationReplicas, replicaWaitMessage } from "./replica-hold.js";
import { httpReplicaIo, type ReplicaIo } from "./replica-io.js";
import { REPLICA_SYNC_POLL_MS, syncReplicas } from "./replica-sync.js";
import { type ModelLookup, resolveModel } from "./resolve-model.js";
import { restorePlan } from "./restore-plan.js";
import { readRestoreSource } from "./restore-source.js";
import { VERIFY_POLL_MS, verifyRestore } from "./restore-verify.js";
import { indexStatus, type RestoredFrom, type RestoreObservation } from "./status.js";

export interface VectorIndexOptions extends ControllerOptions {
  /** How a move's pods are read (routers, backfill record, gate, canary); default HTTP (generation-probe.ts). */
  readonly generations?: GenerationProbe;
  /** Caps analysisIntervalSeconds (tests and demos); default $EMBEDOPS_TEST_MIN_INTERVAL_SECONDS. */
  readonly maxIntervalSeconds?: number;
  /** How new replicas are observed and caught up; default HTTP (replica-io.ts). */
  readonly replicas?: ReplicaIo;
}

export class VectorIndexReconciler implements Controller {
  readonly name = "vectorindex";
  readonly resource = VECTOR_INDEX;
  readonly owns = INDEX_CHILDREN;
  // A model appearing, changing or reporting its fingerprint reconciles the indexes naming it, so
  // an unresolved index needs no poll: it waits for that event (the resync stays the safety net).
  // IndexSnapshots: an index's own (status.lastSnapshot) and the one its spec.restore waits for.
  readonly watches = [modelWatch, snapshotWatch];

  private readonly probe: GenerationProbe;
  private readonly intervalCap: number | undefined;
  private readonly replicaIo: ReplicaIo;
  private readonly replicasListedSince = new Map<string, number>();

  constructor(private readonly options: VectorIndexOptions) {
    this.probe = options.generations ?? httpGenerationProbe();
    this.replicaIo = options.replicas ?? httpReplicaIo();
    const env = process.env[MIN_INTERVAL_ENV];
    const cap = options.maxIntervalSeconds ?? (env ? Number(env) : undefined);
    this.intervalCap = cap !== undefined && cap > 0 ? cap : undefined;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = depsFrom(context, this.options);
    const obj = await readPrimary(deps, VECTOR_INDEX, key);
    if (!obj) return {};
    // Nothing outside the object graph yet. Once snapshots exist, deletion will first take a final
    // snapshot if spec.snapshot asks for one; shards and their PVCs go by owner reference / retention.
    if (await handleDeletion(deps, obj, async () => {})) return {};

    const previous = (obj as { status?: VectorIndexStatus }).status;
    const nowMs = deps.clock.now();
    const base = {
      generation: obj.metadata?.generation,
      previous,
      now: rfc3339(nowMs),
      lastSnapshot: lastSnapshotOf(
        obj.metadata?.namespace ?? "",
        obj.metadata?.name ?? "",
        context.cache(INDEX_SNAPSHOT).list(obj.metadata?.namespace),
      ),
    };
    const parsed = parseAs<VectorIndex>(obj, "VectorIndex");
    if (!parsed.ok) {
      await writeStatus(deps, obj, indexStatus({ ...base, invalidSpec: parsed.message }), previous);
      return {};
    }
    await deps.applier.addFinalizer(obj);

    const vi = parsed.value;
    const namespace = obj.metadata?.namespace ?? "";
    const uid = obj.metadata?.uid ?? "";
    const ctx: OwnerContext = {
      namespace,
      ownerReference: controllerReference(obj),
      ownerLabels: vi.metadata.labels,
      image: deps.image,
    };
    // Before the model: clients can fetch their key while the encoder still rolls out.
    const createdSecret = await ensureAuthSecret(deps, ctx, vi.metadata.name, vi.spec);
    if (createdSecret) await deps.events.normal(obj, "Created", `created ${createdSecret}`);
    const resolution = resolveModel(
      vi.spec,
      namespace,
      await lookupModel(deps, namespace, vi.spec.modelRef.name),
    );
    if (!resolution.ok) {
      await writeStatus(deps, obj, indexStatus({ ...base, resolution }), previous);
      return {};
    }

    // spec.restore: no shard is built before the snapshot can fill it (restore-plan.ts).
    const plan = restorePlan({
      namespace,
      spec: vi.spec,
      restoredFrom: previous?.restoredFrom,
      fingerprint: resolution.fingerprint,
      source: await readRestoreSource(deps, namespace, vi, previous?.restoredFrom),
    });
    if (plan.kind === "wait" || plan.kind === "refuse") {
      const blocked = { reason: plan.reason, message: plan.message, refused: plan.kind === "refuse" };
      await writeStatus(deps, obj, indexStatus({ ...base, resolution, restore: { blocked } }), previous);
      return {};
    }
    const restoredGeneration = plan.kind === "restore" ? generationName(plan.restore.fingerprint) : undefined;

    // The generation that serves is the one in status (a model change does not move it by itself);
    // the first reconcile builds the model's.
    const modelRef = {
      generation: generationName(resolution.fingerprint),
      fingerprint: resolution.fingerprint,
    };
    const active: GenerationRef =
      previous?.activeGeneration && previous.fingerprint
        ? { generation: previous.activeGeneration, fingerprint: previous.fingerprint }
        : modelRef;
    const target: GenerationRef = resolution.candidate
      ? {
          generation: generationName(resolution.candidate.fingerprint),
          fingerprint: resolution.candidate.fingerprint,
        }
      : modelRef;
    // The encoder that serves a fingerprint: the model's stable routing, or its held candidate's
    // revision Service. A fingerprint neither serves (the model changed without holding a candidate)
    // keeps the stable routing; the router then refuses the mismatched encoder and says so.
    const encoderFor = (fingerprint: string): EncoderRouting | undefined =>
      resolution.candidate?.fingerprint === fingerprint
        ? { revision: resolution.candidate.revision }
        : resolution.encoder;
    const propsOf = (ref: GenerationRef): IndexProps => ({
      index: vi.metadata.name,
      spec: vi.spec,
      model: resolution.model,
      fingerprint: ref.fingerprint,
      dimension: resolution.dimension,
      encoder: encoderFor(ref.fingerprint),
      encoderAuth: resolution.encoderAuth,
    });

    const { spec } = vi;
    const status = machineStatus(previous?.rollout);
    const intervalMs =
      Math.min(spec.rollout.analysisIntervalSeconds, this.intervalCap ?? Number.POSITIVE_INFINITY) * 1000;
    const candidateOf = (s: GenerationRolloutStatus | undefined) =>
      s ? { fingerprint: s.candidateFingerprint, encoder: encoderFor(s.candidateFingerprint) } : undefined;
    const { observed, record } = await observeMove({
      deps,
      context,
      probe: this.probe,
      vi,
      namespace,
      active: propsOf(active),
      status: isMoving(status) ? status : undefined,
      candidate: candidateOf(status),
    });
    const moveTarget = { namespace, index: vi.metadata.name, generation: status?.candidateGeneration ?? "" };
    const verdict =
      status && generationCheckDue(status, nowMs, intervalMs)
        ? await this.probe.verdict({
            ...moveTarget,
            routers: await routerUrls(deps, namespace, vi.metadata.name),
            activeFingerprint: active.fingerprint,
            candidateFingerprint: status.candidateFingerprint,
            slo: spec.rollout.slo,
            weight: status.weight,
          })
        : undefined;
    const result = advanceGeneration({
      policy: spec.rollout,
      status,
      now: nowMs,
      active,
      target,
      ...(observed ? { observed } : {}),
      ...(verdict ? { verdict } : {}),
      ...commandOf(obj, deps),
      intervalMs,
      retainPreviousMs: parseDurationMs(spec.rollout.retainPrevious),
    });
    const desired = result.desired;
    const next = result.status;
    if (!isMoving(next) && status && isMoving(status)) this.probe.forget(moveTarget);

    // What runs: the routers' active generation, N+1 while it moves, N while it is retained.
    const retained =
      desired.retained && nowMs < desired.retained.deleteAfter ? desired.retained.ref : undefined;
    const c = desired.candidate;
    // Replicas per shard: a change of spec.replicas waits while a move runs, for N and N+1 alike
    // (as under serve); N kept after a promotion keeps its count (replica-hold.ts).
    const running = shardReplicaCounts(context, namespace, vi.metadata.name);
    const replicasOf = (ref: GenerationRef, isActive: boolean) => ({
      generation: ref.generation,
      ...generationReplicas({
        specReplicas: spec.replicas,
        moving: isMoving(next),
        active: isActive,
        running: running.get(ref.generation) ?? [],
      }),
    });
    const activeReplicas = replicasOf(desired.activeGeneration, true);
    const candidateReplicas = c ? replicasOf(c.ref, false) : undefined;
    const retainedReplicas = retained ? replicasOf(retained, false) : undefined;
    const replicaWait = replicaWaitMessage(
      spec.replicas,
      [activeReplicas, candidateReplicas, retainedReplicas].filter(
        (r): r is NonNullable<typeof r> => r?.waits === true,
      ),
    );
    const generations: IndexGenerations = {
      ...(c
        ? {
            candidate: {
              fingerprint: c.ref.fingerprint,
              encoder: encoderFor(c.ref.fingerprint),
              inRouters: c.inRouters,
              queryWeight: c.queryWeight,
              replicas: candidateReplicas?.replicas,
            },
            backfill: c.backfill,
          }
        : {}),
      ...(retained && retained.generation !== desired.activeGeneration.generation
        ? {
            retained: [
              {
                fingerprint: retained.fingerprint,
                encoder: encoderFor(retained.fingerprint),
                replicas: retainedReplicas?.replicas,
              },
            ],
          }
        : {}),
    };
    // New replicas (spec.replicas raised): seeded, listed as syncing, caught up (replica-sync.ts).
    // N+1 just promoted with fewer replicas than spec.replicas (a raise waited for the move) starts
    // from the count its StatefulSets run: the rest are new replicas.
    const activeProps = withReplicas(propsOf(desired.activeGeneration), activeReplicas.replicas);
    const activeRunning = running.get(desired.activeGeneration.generation) ?? [];
    const replicaSync = await syncReplicas({
      deps,
      io: this.replicaIo,
      namespace,
      props: activeProps,
      previous: previous?.replicaSync,
      running: activeRunning.length > 0 ? Math.min(...activeRunning) : undefined,
      listedSince: this.replicasListedSince,
      now: nowMs,
    });
    const routed = { ...activeProps, syncing: replicaSync.syncing };
    // Every shard StatefulSet carries the seed init container (shard-statefulset.ts): raising
    // spec.replicas changes only their replica count, so the serving pods do not roll.
    const children = indexChildren(ctx, routed, generations);
    const converged = await convergeChildren(
      deps.objects,
      deps.applier,
      namespace,
      uid,
      plan.kind === "restore"
        ? {
            ...children,
            // The restored generation's shards only; a later generation is backfilled from it.
            present: children.present.map((child) =>
              child.kind === "StatefulSet" &&
              child.metadata?.labels?.[LABEL.generation] === restoredGeneration
                ? withShardRestore(child as V1StatefulSet, plan.restore, spec.shards)
                : child,
            ),
          }
        : children,
    );
    if (converged.created.length > 0) {
      await deps.events.normal(obj, "Created", `created ${converged.created.join(", ")}`);
    }

    const keep = new Set(
      [desired.activeGeneration, c?.ref, retained, next?.phase === "Promoting" ? active : undefined]
        .filter((g): g is GenerationRef => g !== undefined)
        .map((g) => g.generation),
    );
    let pruneError: string | undefined;
    if (!converged.error) {
      const backfillJob = c?.backfill ? backfillName(vi.metadata.name, c.ref.generation) : undefined;
      const stale = staleMoveChildren(context, namespace, vi.metadata.name, keep, backfillJob);
      try {
        const deleted = await pruneMoveChildren(
          deps,
          namespace,
          uid,
          vi.metadata.name,
          stale,
          keep,
          spec.storage.retainOnDelete || next === undefined,
        );
        if (deleted.length > 0) await deps.events.normal(obj, "Deleted", `deleted ${deleted.join(", ")}`);
      } catch (err) {
        pruneError = `removing a previous generation failed: ${describeError(err)}`;
      }
    }

    // status.activeGeneration moves with the machine's Succeeded, not its Promoting: until then the
    // machine's `active` must stay N (it would read N+1 as "nothing to move" and withdraw it).
    const recorded = next?.phase === "Promoting" ? active : desired.activeGeneration;
    const shards = shardsOf(propsOf(recorded)).map(
      (s) =>
        converged.objects.get(
          childId({
            kind: "StatefulSet",
            metadata: { name: shardSetName(vi.metadata.name, recorded.generation, s) },
          }),
        ) as V1StatefulSet | undefined,
    );
    const router = converged.objects.get(
      childId({ kind: "Deployment", metadata: { name: routerName(vi.metadata.name) } }),
    ) as V1Deployment | undefined;
    const view = {
      active: recorded,
      activeReady: shards.every((s) => statefulSetState(s).rolledOut),
      desired,
      rollout: next,
      record,
      retainedKept: retained !== undefined,
      previous,
      now: nowMs,
      nowText: rfc3339(nowMs),
    };
    // The restore is recorded once the restored generation's shards are all ready.
    let restore: RestoreObservation | undefined;
    if (plan.kind === "restore" && plan.pending) {
      const ready = view.activeReady && recorded.generation === restoredGeneration;
      const restoredFrom: RestoredFrom = {
        snapshot: plan.restore.snapshot,
        fromIndex: plan.restore.fromIndex,
        fingerprint: plan.restore.fingerprint,
        ...(plan.vectors !== undefined ? { vectors: plan.vectors } : {}),
        restoredAt: rfc3339(nowMs),
      };
      restore = ready
        ? { restoredFrom }
        : {
            restoring:
              `shards of generation ${restoredGeneration} are filled from IndexSnapshot ` +
              `"${plan.restore.snapshot}" of VectorIndex "${plan.restore.fromIndex}" (init container restore)`,
          };
      if (ready)
        await deps.events.normal(
          obj,
          "Restored",
          `generation ${restoredGeneration} filled from IndexSnapshot ${plan.restore.snapshot}`,
        );
    }
    // Then, with spec.quality, the golden-set check of the restored generation, once.
    const restoredFrom = restore?.restoredFrom ?? previous?.restoredFrom;
    const restoredGen = restoredFrom ? generationName(restoredFrom.fingerprint) : undefined;
    const verified = restoredFrom
      ? await verifyRestore({
          deps,
          probe: this.probe,
          vi,
          namespace,
          restored: propsOf({ generation: restoredGen ?? "", fingerprint: restoredFrom.fingerprint }),
          generation: restoredGen ?? "",
          serving: recorded.generation === restoredGen,
          ready: view.activeReady,
          previous,
        })
      : undefined;
    if (verified) restore = { ...restore, verified };
    const failed = failedMove(next, target);
    const applyError = converged.error ?? pruneError;
    const indexStatusNext = indexStatus({
      ...base,
      resolution,
      shards,
      ...(restore ? { restore } : {}),
      ...(router ? { router } : {}),
      ...(applyError ? { applyError } : {}),
      replicaSync: { ...replicaSync.step.status, replicas: [...replicaSync.step.status.replicas] },
      move: {
        active: recorded,
        generations: generationEntries(view),
        rollout: next,
        backfillProgress: backfillProgress(view),
        ...(isMoving(next) && next
          ? {
              moving: {
                reason: next.reason ?? next.phase,
                message: [next.message ?? next.phase, replicaWait].filter(Boolean).join("; "),
              },
            }
          : {}),
        ...(failed ? { failed } : {}),
      },
    });
    await writeStatus(deps, obj, indexStatusNext, previous);
    for (const e of result.events) {
      if (e.type === "Warning") await deps.events.warning(obj, e.reason, e.message);
      else await deps.events.normal(obj, e.reason, e.message);
    }
    // Once per wait (the message names the counts): the condition carries it while it lasts.
    const progressing = previous?.conditions?.find((x) => x.type === "Progressing")?.message ?? "";
    if (replicaWait && !progressing.includes(replicaWait))
      await deps.events.normal(obj, "ReplicaChangeWaits", replicaWait);
    for (const r of replicaSync.synced)
      await deps.events.normal(
        obj,
        "ReplicaSynced",
        `replica ${r} caught up with replica 0; the routers query it`,
      );
    if (applyError) throw new Error(applyError);
    const requeue = Math.min(
      result.requeueAfterMs ?? Number.POSITIVE_INFINITY,
      verified?.reason === "Measuring" ? VERIFY_POLL_MS : Number.POSITIVE_INFINITY,
      replicaSync.step.requeue ? REPLICA_SYNC_POLL_MS : Number.POSITIVE_INFINITY,
    );
    return Number.isFinite(requeue) ? { requeueAfterMs: Math.max(1, requeue) } : {};
  }
}

/**
 * status.rollout as the machine reads it. The CRD's schema mirrors GenerationRolloutStatus field for
 * field (src/api/v1alpha1/vector-index.ts); zod's output spells absent optionals `T | undefined`,
 * which the machine's readonly optionals do not, hence the cast.
 */
function machineStatus(s: VectorIndexStatus["rollout"]): GenerationRolloutStatus | undefined {
  return s as GenerationRolloutStatus | undefined;
}

function commandOf(obj: KubernetesObject, deps: ReconcilerDeps): { command?: RolloutCommand } {
  const raw = obj.metadata?.annotations?.[ROLLOUT_COMMAND_ANNOTATION];
  if (raw === undefined) return {};
  const parsed = parseRolloutCommand(raw);
  if (!parsed.ok) {
    deps.log.warn("ignoring the rollout command", { error: parsed.error });
    return {};
  }
  return { command: parsed.command };
}

/** Per generation, spec.replicas of the index's shard StatefulSets (informer cache). */
function shardReplicaCounts(
  context: ReconcileContext,
  namespace: string,
  index: string,
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of context.cache<V1StatefulSet>(STATEFUL_SET).list(namespace)) {
    const l = s.metadata?.labels;
    const g = l?.[LABEL.generation];
    if (l?.[LABEL.index] !== index || l[LABEL.role] !== "shard" || g === undefined) continue;
    out.set(g, [...(out.get(g) ?? []), s.spec?.replicas ?? 1]);
  }
  return out;
}

async function lookupModel(deps: ReconcilerDeps, namespace: string, name: string): Promise<ModelLookup> {
  const model = await readPrimary(deps, EMBEDDING_MODEL, keyOf({ namespace, name }));
  if (!model) return { found: false };
  const parsed = parseAs<EmbeddingModel>(model, "EmbeddingModel");
  return parsed.ok ? { found: true, model: parsed.value } : { found: true, invalid: parsed.message };
}
