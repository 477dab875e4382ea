// EmbeddingModel -> encoder children and status, in kubebuilder's order: get -> validate ->
// deletion -> finalizer -> rollout decision -> children per revision -> learn the stable's
// fingerprint -> status (written only on change) -> events for transitions.
//
// Rollouts: every reconcile calls the pure state machine (src/rollout/state-machine.ts) with what it
// observed (status.canary, the candidate's /info, the interval's verdict, a command annotation) and
// applies its `desired`: a Deployment + Service per running revision, stale revisions removed.
import type { KubernetesObject, V1Deployment, V1Pod } from "@kubernetes/client-node";
import type { CanaryStatus, EmbeddingModel, EmbeddingModelStatus } from "../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../src/builders/context.js";
import { modelRevision } from "../../src/builders/encoder-deployment.js";
import { encoderRevisionSelector, LABEL } from "../../src/builders/labels.js";
import { type AbsentChild, modelChildren } from "../../src/builders/model-children.js";
import { encoderName, encoderRevisionName } from "../../src/builders/names.js";
import { describeError, isNotFound } from "../../src/kube/errors.js";
import type { Controller, ReconcileContext, ReconcileResult } from "../../src/kube/operator-runtime.js";
import { controllerReference } from "../../src/kube/owner.js";
import {
  parseRolloutCommand,
  ROLLOUT_COMMAND_ANNOTATION,
  type RolloutCommand,
} from "../../src/rollout/command.js";
import { podStartFailure } from "../../src/rollout/pod-start-failure.js";
import { probeBatch, probeTexts } from "../../src/rollout/probe-texts.js";
import {
  advanceRollout,
  analysisDue,
  analysisWindow,
  type RolloutResult,
} from "../../src/rollout/state-machine.js";
import { childId, convergeChildren } from "../shared/children.js";
import { deploymentState } from "../shared/conditions.js";
import { type ControllerOptions, depsFrom, type ReconcilerDeps, rfc3339 } from "../shared/deps.js";
import { handleDeletion, readPrimary } from "../shared/primary.js";
import { DEPLOYMENT, EMBEDDING_MODEL, MODEL_CHILDREN, SERVICE, VECTOR_INDEX } from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";
import { writeStatus } from "../shared/write-status.js";
import type { EncoderReport, FingerprintProbe } from "./fingerprint-probe.js";
import { indexHandOff, indexWatch } from "./index-hand-off.js";
import {
  type AnalysisIo,
  httpMetricsScraper,
  httpProbeSender,
  type IntervalTarget,
  intervalVerdict,
  type MetricsScraper,
  type ProbeSender,
  ScrapeBaselines,
  startWindow,
} from "./rollout-io.js";
import { type ModelObservation, modelStatus } from "./status.js";

/** How soon to ask the encoder again when it is rolled out but /info did not answer. */
export const PROBE_RETRY_MS = 10_000;

/**
 * How long a revision that left the rollout (the previous stable after a promotion, a withdrawn
 * candidate) is kept: the kubelet's ConfigMap sync (60 s) plus its cache. Capped at three analysis
 * intervals, so tests with short intervals do not wait.
 */
export const ROUTER_SETTLE_MS = 90_000;

/** Test and demo hook (controllers/README.md "Rollouts"): caps the analysis interval, in seconds. */
export const MIN_INTERVAL_ENV = "EMBEDOPS_TEST_MIN_INTERVAL_SECONDS";

export interface EmbeddingModelOptions extends ControllerOptions {
  /** How an encoder's fingerprint is read; default GET /info through the revision's Service. */
  readonly probe: FingerprintProbe;
  /** How a revision's /metrics are read; default GET through the revision's Service. */
  readonly scrape?: MetricsScraper;
  /** How probe traffic is sent; default POST /v1/embeddings through the revision's Service. */
  readonly sendProbe?: ProbeSender;
  /** How the Prometheus HTTP API is called when a policy has slo.prometheus; default fetch. */
  readonly fetchPrometheus?: typeof fetch;
  /** Caps analysisIntervalSeconds (tests and demos); default $EMBEDOPS_TEST_MIN_INTERVAL_SECONDS. */
  readonly maxIntervalSeconds?: number;
}

export class EmbeddingModelReconciler implements Controller {
  readonly name = "embeddingmodel";
  readonly resource = EMBEDDING_MODEL;
  readonly owns = MODEL_CHILDREN;
  // An index's status write (its move to the candidate's generation advanced) wakes its model.
  readonly watches = [indexWatch];

  private readonly io: AnalysisIo;
  private readonly sendProbe: ProbeSender;
  private readonly intervalCap: number | undefined;
  /** Probe rounds already sent, per model + revision + window start: once per interval. */
  private readonly probed = new Map<string, string>();

  constructor(private readonly options: EmbeddingModelOptions) {
    this.io = {
      scrape: options.scrape ?? httpMetricsScraper(),
      ...(options.fetchPrometheus ? { fetchPrometheus: options.fetchPrometheus } : {}),
      baselines: new ScrapeBaselines(),
    };
    this.sendProbe = options.sendProbe ?? httpProbeSender();
    const env = process.env[MIN_INTERVAL_ENV];
    const cap = options.maxIntervalSeconds ?? (env ? Number(env) : undefined);
    this.intervalCap = cap !== undefined && cap > 0 ? cap : undefined;
  }

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = depsFrom(context, this.options);
    const obj = await readPrimary(deps, EMBEDDING_MODEL, key);
    if (!obj) return {};
    // Nothing outside the object graph yet: the encoder's children go with it by owner reference.
    if (await handleDeletion(deps, obj, async () => {})) return {};

    const previous = (obj as { status?: EmbeddingModelStatus }).status;
    const nowMs = deps.clock.now();
    const base = { generation: obj.metadata?.generation, previous, now: rfc3339(nowMs) };
    const parsed = parseAs<EmbeddingModel>(obj, "EmbeddingModel");
    if (!parsed.ok) {
      await writeStatus(deps, obj, modelStatus({ ...base, invalidSpec: parsed.message }), previous);
      return {};
    }
    await deps.applier.addFinalizer(obj);

    const model = parsed.value;
    const spec = model.spec;
    const name = model.metadata.name;
    const namespace = obj.metadata?.namespace ?? "";
    const uid = obj.metadata?.uid ?? "";
    const ctx: OwnerContext = {
      namespace,
      ownerReference: controllerReference(obj),
      ownerLabels: model.metadata.labels,
      image: deps.image,
    };
    const specRevision = modelRevision(spec, deps.image);
    const intervalMs =
      Math.min(spec.rollout.analysisIntervalSeconds, this.intervalCap ?? Number.POSITIVE_INFINITY) * 1000;

    // The stable is protected only while its Deployment exists: a status.revision whose Deployment
    // is gone (deleted by hand, or written by an operator version that named Deployments otherwise)
    // has nothing to protect, and the spec's revision is deployed directly.
    let stableRevision = previous?.revision;
    let stableDeployment: V1Deployment | undefined;
    if (stableRevision !== undefined && stableRevision !== specRevision) {
      stableDeployment = await readDeployment(deps, namespace, encoderRevisionName(name, stableRevision));
      if (!stableDeployment) stableRevision = undefined;
    }

    const canary = previous?.canary;
    const target = (c: CanaryStatus, stable: string, window = analysisWindow(c, nowMs)): IntervalTarget => ({
      model: name,
      namespace,
      spec,
      candidate: c.revision,
      stable,
      weight: c.weight,
      window: window ?? { fromMs: nowMs, toMs: nowMs },
    });
    const { candidateFingerprint, candidateStartFailure } = await this.candidateState(
      deps,
      name,
      namespace,
      canary,
      specRevision,
    );
    const analyzing =
      canary?.phase === "Progressing" &&
      canary.revision === specRevision &&
      stableRevision !== undefined &&
      analysisDue(canary, nowMs, intervalMs);
    const verdict =
      analyzing && stableRevision !== undefined
        ? await intervalVerdict(this.io, target(canary, stableRevision))
        : undefined;

    const result = advanceRollout({
      policy: spec.rollout,
      status: canary,
      ...(verdict ? { verdict } : {}),
      now: nowMs,
      stableRevision,
      candidateRevision: specRevision,
      stableFingerprint: previous?.fingerprint,
      ...(candidateFingerprint ? { candidateFingerprint } : {}),
      ...(candidateStartFailure ? { candidateStartFailure } : {}),
      ...commandOf(obj, deps),
      replicas: spec.runtime.replicas,
      intervalMs,
      // Read by the machine only while the candidate is held at NewGenerationRequired.
      ...(canary?.fingerprint
        ? {
            indexes: indexHandOff(
              context.cache(VECTOR_INDEX).list(namespace),
              namespace,
              name,
              canary.fingerprint,
            ),
          }
        : {}),
    });
    const desired = result.desired;

    // A window that starts now (a new step, or one restarted) needs its baseline scrape.
    const next = result.status;
    if (next?.phase === "Progressing" && next.lastCheckTime !== canary?.lastCheckTime && !analyzing) {
      await startWindow(this.io, target(next, desired.stableRevision));
    }
    if (desired.probe && next) this.probe(name, namespace, spec, next, desired);
    const running = [desired.stableRevision, desired.candidateRevision ?? ""];
    this.io.baselines.retain(namespace, name, running);
    for (const k of this.probed.keys()) {
      const [ns, m, rev] = k.split("/");
      if (ns === namespace && m === name && !running.includes(rev ?? "")) this.probed.delete(k);
    }

    const converged = await convergeChildren(
      deps.objects,
      deps.applier,
      namespace,
      uid,
      modelChildren(ctx, name, spec, desired),
    );
    if (converged.created.length > 0) {
      await deps.events.normal(obj, "Created", `created ${converged.created.join(", ")}`);
    }
    if (desired.stableRevision === specRevision || !stableDeployment) {
      stableDeployment = converged.objects.get(
        childId({
          kind: "Deployment",
          metadata: { name: encoderRevisionName(name, desired.stableRevision) },
        }),
      ) as V1Deployment | undefined;
    }
    const stableRolledOut = deploymentState(stableDeployment).rolledOut;

    // Revisions the rollout no longer lists go once the stable serves (it may be a fresh one), and
    // not before routers had time to load the config without them: a router's ConfigMap is a
    // mounted file the kubelet refreshes about once a minute, so right after a promotion some
    // routers still call the previous stable.
    let pruneError: string | undefined;
    let settleMs: number | undefined;
    if (stableRolledOut && !converged.error) {
      const stale = staleRevisionChildren(context, name, namespace, uid, desired);
      const settledAt =
        Date.parse(result.status?.lastCheckTime ?? "") + Math.min(ROUTER_SETTLE_MS, 3 * intervalMs);
      if (stale.length > 0 && nowMs < settledAt) {
        settleMs = settledAt - nowMs;
      } else if (stale.length > 0) {
        const pruned = await convergeChildren(deps.objects, deps.applier, namespace, uid, {
          present: [],
          absent: stale,
        });
        pruneError = pruned.error;
        if (pruned.deleted.length > 0) {
          await deps.events.normal(obj, "Deleted", `deleted ${pruned.deleted.join(", ")}`);
        }
      }
    }

    // Only a fully rolled-out stable is asked: then every pod behind its Service runs this revision.
    let report: ModelObservation["report"];
    if (stableRolledOut) {
      report = await this.options.probe(name, namespace, desired.stableRevision).then(
        (r): EncoderReport => r,
        (err: unknown) => ({ error: describeError(err) }),
      );
    }
    const applyError = converged.error ?? pruneError;
    const status = modelStatus({
      ...base,
      dimension: spec.dimension,
      ...(stableDeployment ? { deployment: stableDeployment } : {}),
      revision: desired.stableRevision,
      ...(report ? { report } : {}),
      ...(applyError ? { applyError } : {}),
      rollout: { canary: result.status, conditions: result.conditions },
    });
    await writeStatus(deps, obj, status, previous);
    await this.announce(deps, context, obj, result);
    if (applyError) throw new Error(applyError);

    const waits = [
      result.requeueAfterMs,
      report && "error" in report ? PROBE_RETRY_MS : undefined,
      settleMs,
      // While the candidate starts, its Deployment's status events wake us; this is the safety net.
    ].filter((ms): ms is number => ms !== undefined);
    return waits.length > 0 ? { requeueAfterMs: Math.max(1, Math.min(...waits)) } : {};
  }

  /**
   * While the candidate initializes: its /info fingerprint once all its pods are ready, or why its
   * pods can never start (pod-start-failure.ts) while they are not.
   */
  private async candidateState(
    deps: ReconcilerDeps,
    name: string,
    namespace: string,
    canary: CanaryStatus | undefined,
    specRevision: string,
  ): Promise<{ candidateFingerprint?: string; candidateStartFailure?: string }> {
    if (canary?.phase !== "Initializing" || canary.revision !== specRevision) return {};
    const d = await readDeployment(deps, namespace, encoderRevisionName(name, specRevision));
    if (!deploymentState(d).rolledOut) {
      const failure = podStartFailure(
        await listPods(deps, namespace, encoderRevisionSelector(name, specRevision)),
      );
      return failure ? { candidateStartFailure: failure } : {};
    }
    try {
      return { candidateFingerprint: (await this.options.probe(name, namespace, specRevision)).fingerprint };
    } catch (err) {
      deps.log.info("candidate /info not answered yet", { model: name, error: describeError(err) });
      return {};
    }
  }

  /** policy.probe.requests requests per interval to the candidate (and stable): never awaited. */
  private probe(
    name: string,
    namespace: string,
    spec: EmbeddingModel["spec"],
    s: CanaryStatus,
    desired: RolloutResult["desired"],
  ): void {
    const n = spec.rollout.probe.requests;
    if (n <= 0 || desired.candidateRevision === undefined) return;
    const texts = probeTexts({
      ...(spec.rollout.probe.texts ? { configured: spec.rollout.probe.texts } : {}),
    });
    const round = s.failedChecks + s.stepIndex + s.inconclusiveChecks;
    const batch = probeBatch(texts, n, round);
    const targets = [desired.candidateRevision, ...(desired.probeStable ? [desired.stableRevision] : [])];
    for (const revision of targets) {
      const key = `${namespace}/${name}/${revision}`;
      const window = s.lastCheckTime ?? "";
      if (this.probed.get(key) === window) continue;
      this.probed.set(key, window);
      // One text per request: minRequests counts requests.
      void Promise.allSettled(batch.map((text) => this.sendProbe(name, namespace, revision, [text])));
    }
  }

  private async announce(
    deps: ReconcilerDeps,
    context: ReconcileContext,
    obj: KubernetesObject,
    result: RolloutResult,
  ): Promise<void> {
    for (const e of result.events) {
      if (e.type === "Warning") await deps.events.warning(obj, e.reason, e.message);
      else await deps.events.normal(obj, e.reason, e.message);
    }
    for (const t of result.transitions) {
      if (t.to === "Succeeded" || t.to === "Failed") {
        context.metrics?.rolloutsTotal.inc({ result: t.to, reason: result.status?.reason ?? "" });
      }
    }
  }
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

/** Pods matching `labels` in one namespace (a fresh list: the operator keeps no Pod informer). */
async function listPods(
  deps: ReconcilerDeps,
  namespace: string,
  labels: Record<string, string>,
): Promise<V1Pod[]> {
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const list = await deps.objects.list<V1Pod>(
    "v1",
    "Pod",
    namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    selector,
  );
  return list.items;
}

async function readDeployment(
  deps: ReconcilerDeps,
  namespace: string,
  name: string,
): Promise<V1Deployment | undefined> {
  try {
    return (await deps.objects.read({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace },
    })) as V1Deployment;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Encoder Deployments and Services of this model for a revision the rollout does not list, and
 * the pre-revision `<model>-encoder` Deployment; from the informer caches (a lagging cache only
 * delays a removal to the next reconcile). Ownership is checked again before each delete.
 */
function staleRevisionChildren(
  context: ReconcileContext,
  model: string,
  namespace: string,
  uid: string,
  desired: RolloutResult["desired"],
): AbsentChild[] {
  const keep = new Set([desired.stableRevision, desired.candidateRevision].filter((r) => r !== undefined));
  const out: AbsentChild[] = [];
  const scan = (objects: readonly KubernetesObject[], apiVersion: string, kind: string) => {
    for (const o of objects) {
      const m = o.metadata;
      if (m?.namespace !== namespace || m.labels?.[LABEL.model] !== model) continue;
      if (m.labels?.[LABEL.role] !== "encoder") continue;
      if (!m.ownerReferences?.some((r) => r.controller === true && r.uid === uid)) continue;
      const revision = m.labels?.[LABEL.revision];
      const legacy = kind === "Deployment" && revision === undefined && m.name === encoderName(model);
      if (legacy || (revision !== undefined && !keep.has(revision))) {
        out.push({ apiVersion, kind, name: m.name ?? "" });
      }
    }
  };
  scan(context.cache(DEPLOYMENT).list(namespace), "apps/v1", "Deployment");
  scan(context.cache(SERVICE).list(namespace), "v1", "Service");
  return out;
}
