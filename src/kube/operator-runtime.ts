// The loop controllers run in: informers feed workqueues, workers call reconcile(key), leader
// election decides whether workers run at all, and /metrics, /healthz, /readyz report on it.
//
// Caches start at once on every replica so a standby that becomes leader acts without a cold
// list (controller-runtime does the same); only workers wait for leadership.
//
// Exit contract (see leader-election.ts): `done` resolves with exitCode 1 when leadership is lost
// and 0 after stop(); the process entry point exits with that code. runOperator() wires SIGTERM.
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Listening } from "../http/serve.js";
import { createLogger, type Logger } from "../util/log.js";
import { Applier } from "./apply.js";
import type { KubeClients } from "./client.js";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";
import { describeError } from "./errors.js";
import { type EventRecorder, KubeEventRecorder } from "./events.js";
import { Informer } from "./informer.js";
import { objectKey } from "./keys.js";
import { defaultIdentity, LeaderElector } from "./leader-election.js";
import { type Address, startHealthServer, startMetricsServer } from "./operator-http.js";
import { createOperatorMetrics, type OperatorMetrics } from "./operator-metrics.js";
import { groupOf, ownerKeyOf } from "./owner.js";
import { collectionPath, type ResourceRef } from "./resource.js";
import { WorkQueue } from "./workqueue.js";

export interface ReconcileResult {
  /** Look at this key again after this long even if nothing changes (computed, not ticked). */
  readonly requeueAfterMs?: number;
}

export interface ReconcileContext {
  readonly log: Logger;
  /** The informer cache of a kind this runtime watches (a controller's resource or owns). */
  cache<T extends KubernetesObject>(resource: ResourceRef): Informer<T>;
  readonly applier: Applier;
  readonly events: EventRecorder;
  readonly clients: KubeClients;
  /** The operator's own metrics, for counters a controller keeps (e.g. rollouts). */
  readonly metrics?: OperatorMetrics;
}

/** Reads the informer cache of a kind the runtime watches. */
export type CacheLookup = <T extends KubernetesObject>(resource: ResourceRef) => Informer<T>;

/**
 * Another kind whose changes concern this controller's objects without owning them (an
 * EmbeddingModel and the VectorIndexes that name it). `keysFor` reads caches, never the API server:
 * it runs inside the informer's event handler.
 */
export interface RelatedWatch {
  readonly resource: ResourceRef;
  /** Workqueue keys of `Controller.resource` objects to reconcile when `obj` is added, updated or deleted. */
  keysFor(obj: KubernetesObject, cache: CacheLookup): readonly string[];
}

export interface Controller {
  /** Metric label and log field, e.g. "embeddingmodel". */
  readonly name: string;
  readonly resource: ResourceRef;
  /** Child kinds: a change to a child enqueues its controlling owner of `resource` kind. */
  readonly owns?: readonly ResourceRef[];
  /** Other kinds whose changes map to keys of `resource` (see RelatedWatch). */
  readonly watches?: readonly RelatedWatch[];
  /** Concurrent reconciles (never of the same key). Default 1. */
  readonly workers?: number;
  reconcile(key: string, ctx: ReconcileContext): Promise<ReconcileResult | undefined>;
}

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly name: string;
  readonly identity?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
}

export interface OperatorRuntimeOptions {
  readonly clients: KubeClients;
  readonly controllers: readonly Controller[];
  /** Watch one namespace; default all. */
  readonly namespace?: string;
  /** false: act at once without a Lease (one replica, or tests). */
  readonly leaderElection: LeaderElectionConfig | false;
  /** Default 0.0.0.0:8080. */
  readonly metricsAddress?: Address;
  /** Default 0.0.0.0:8081. */
  readonly healthAddress?: Address;
  /** Every key is re-queued this often, a safety net for missed events. Default 10 min; 0 disables. */
  readonly resyncPeriodMs?: number;
  readonly log?: Logger;
  readonly clock?: Clock;
}

export interface OperatorExit {
  readonly reason: "stopped" | "lost-leadership";
  readonly exitCode: 0 | 1;
}

interface RunningController {
  readonly spec: Controller;
  readonly queue: WorkQueue;
  readonly workers: Promise<void>[];
}

export class OperatorRuntime {
  readonly identity: string;
  readonly metrics: OperatorMetrics;
  readonly done: Promise<OperatorExit>;
  private readonly opts: OperatorRuntimeOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: RunningController[];
  private readonly applier: Applier;
  private readonly events: EventRecorder;
  private readonly elector: LeaderElector | undefined;
  private resolveDone: (exit: OperatorExit) => void = () => {};
  private servers: Listening[] = [];
  private electorRun: Promise<void> | undefined;
  private resyncTimer: TimerHandle | undefined;
  private workersStarted = false;
  private stopping: Promise<void> | undefined;

  constructor(options: OperatorRuntimeOptions) {
    this.opts = options;
    this.log = (options.log ?? createLogger()).child({ component: "operator" });
    this.clock = options.clock ?? systemClock;
    this.metrics = createOperatorMetrics();
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    const le = options.leaderElection;
    this.identity = (le ? le.identity : undefined) ?? defaultIdentity();
    this.applier = new Applier(options.clients.objects);
    this.events = new KubeEventRecorder({
      objects: options.clients.objects,
      instance: this.identity,
      clock: this.clock,
      log: this.log,
    });
    this.controllers = options.controllers.map((spec) => ({
      spec,
      queue: new WorkQueue({ clock: this.clock }),
      workers: [],
    }));
    for (const c of this.controllers) this.wire(c);
    this.elector = le
      ? new LeaderElector({
          coordination: options.clients.coordination,
          namespace: le.namespace,
          name: le.name,
          identity: this.identity,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
          clock: this.clock,
          log: this.log,
          onStartedLeading: () => {
            this.metrics.isLeader.set(1);
            void this.startWorkers();
          },
          onStoppedLeading: (reason) => {
            this.metrics.isLeader.set(0);
            if (reason === "lost") void this.onLostLeadership();
          },
        })
      : undefined;
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
  }

  /** Ready: every cache synced and leader election running (as leader or standby). */
  readiness(): { ok: boolean; detail: string } {
    const unsynced = [...this.informers.entries()].filter(([, i]) => !i.hasSynced).map(([path]) => path);
    if (unsynced.length > 0) return { ok: false, detail: `caches not synced: ${unsynced.join(", ")}` };
    if (this.stopping) return { ok: false, detail: "shutting down" };
    if (this.elector && this.elector.state === "stopped")
      return { ok: false, detail: "leader election stopped" };
    return { ok: true, detail: this.isLeader ? "ok (leader)" : "ok (standby)" };
  }

  /** Starts listeners, caches and leader election; resolves once listeners are bound. */
  async start(): Promise<{ metricsUrl: string; healthUrl: string }> {
    const metricsServer = await startMetricsServer(
      this.metrics.registry,
      this.opts.metricsAddress ?? { host: "0.0.0.0", port: 8080 },
      this.log,
    );
    const healthServer = await startHealthServer(
      { healthz: () => ({ ok: true, detail: "ok" }), readyz: () => this.readiness() },
      this.opts.healthAddress ?? { host: "0.0.0.0", port: 8081 },
      this.log,
    );
    this.servers = [metricsServer, healthServer];
    for (const informer of this.informers.values()) informer.start();
    if (this.elector) this.electorRun = this.elector.run();
    else void this.startWorkers();
    return { metricsUrl: metricsServer.url, healthUrl: healthServer.url };
  }

  /** Graceful stop (SIGTERM): stop watches, drain queues, release the Lease, close listeners. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown({ drain: true, exit: { reason: "stopped", exitCode: 0 } });
    return this.stopping;
  }

  private wire(c: RunningController): void {
    const { spec, queue } = c;
    const enqueue = (obj: KubernetesObject) => queue.add(objectKey(obj));
    this.informerFor(spec.resource).on({ add: enqueue, update: enqueue, delete: enqueue });
    const owner = { group: groupOf(spec.resource.apiVersion), kind: spec.resource.kind };
    for (const child of spec.owns ?? []) {
      const enqueueOwner = (obj: KubernetesObject) => {
        const key = ownerKeyOf(obj, owner);
        if (key) queue.add(key);
      };
      this.informerFor(child).on({ add: enqueueOwner, update: enqueueOwner, delete: enqueueOwner });
    }
    const cache: CacheLookup = (r) => this.watchedInformer(r, spec.name);
    for (const watch of spec.watches ?? []) {
      const enqueueMapped = (obj: KubernetesObject) => {
        for (const key of watch.keysFor(obj, cache)) queue.add(key);
      };
      this.informerFor(watch.resource).on({
        add: enqueueMapped,
        update: enqueueMapped,
        delete: enqueueMapped,
      });
    }
    this.metrics.queueDepth.set({ controller: spec.name }, 0);
  }

  /** The informer of a kind some controller watches; a mapping may not start new watches. */
  private watchedInformer<T extends KubernetesObject>(
    resource: ResourceRef,
    controller: string,
  ): Informer<T> {
    const informer = this.informers.get(collectionPath(resource, this.opts.namespace));
    if (!informer) {
      throw new Error(
        `controller ${controller} reads the cache of ${resource.kind}, which no controller watches; ` +
          "add it to the controller's resource, owns or watches",
      );
    }
    return informer as unknown as Informer<T>;
  }

  private informerFor<T extends KubernetesObject>(resource: ResourceRef): Informer<T> {
    const path = collectionPath(resource, this.opts.namespace);
    let informer = this.informers.get(path);
    if (!informer) {
      informer = new Informer({
        resource,
        kubeConfig: this.opts.clients.kubeConfig,
        objects: this.opts.clients.objects,
        namespace: this.opts.namespace,
        clock: this.clock,
        log: this.log,
      });
      this.informers.set(path, informer);
    }
    return informer as unknown as Informer<T>;
  }

  private async startWorkers(): Promise<void> {
    if (this.workersStarted || this.stopping) return;
    this.workersStarted = true;
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    if (this.stopping) return;
    this.log.info("caches synced, starting workers", {
      controllers: this.controllers.map((c) => c.spec.name),
    });
    for (const c of this.controllers) {
      for (let i = 0; i < (c.spec.workers ?? 1); i++) c.workers.push(this.worker(c));
    }
    this.scheduleResync();
  }

  private scheduleResync(): void {
    const period = this.opts.resyncPeriodMs ?? 600_000;
    if (period <= 0) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      for (const c of this.controllers) {
        for (const obj of this.informerFor(c.spec.resource).list()) c.queue.add(objectKey(obj));
      }
      this.scheduleResync();
    }, period);
  }

  private async worker(c: RunningController): Promise<void> {
    const { spec, queue } = c;
    const ctx: Omit<ReconcileContext, "log"> = {
      cache: <T extends KubernetesObject>(r: ResourceRef) => this.informerFor<T>(r),
      applier: this.applier,
      events: this.events,
      clients: this.opts.clients,
      metrics: this.metrics,
    };
    for (;;) {
      this.metrics.queueDepth.set({ controller: spec.name }, queue.length);
      const key = await queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set({ controller: spec.name }, queue.length);
      const log = this.log.child({ controller: spec.name, key });
      const endTimer = this.metrics.reconcileDuration.startTimer({ controller: spec.name });
      try {
        const result = await spec.reconcile(key, { ...ctx, log });
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) {
          queue.addAfter(key, result.requeueAfterMs);
          this.metrics.reconcileTotal.inc({ controller: spec.name, result: "requeue" });
        } else {
          this.metrics.reconcileTotal.inc({ controller: spec.name, result: "success" });
        }
      } catch (err) {
        const retryInMs = queue.addRateLimited(key);
        this.metrics.reconcileTotal.inc({ controller: spec.name, result: "error" });
        this.metrics.reconcileErrors.inc({ controller: spec.name });
        log.error("reconcile failed", {
          error: describeError(err),
          retryInMs,
          failures: queue.failuresOf(key),
        });
      } finally {
        endTimer();
        queue.done(key);
      }
    }
  }

  private async onLostLeadership(): Promise<void> {
    // Another replica owns the keys now: drop queued work instead of racing it.
    this.stopping ??= this.shutdown({ drain: false, exit: { reason: "lost-leadership", exitCode: 1 } });
    await this.stopping;
  }

  private async shutdown(how: { drain: boolean; exit: OperatorExit }): Promise<void> {
    this.log.info("stopping", { reason: how.exit.reason });
    if (this.resyncTimer !== undefined) this.clock.clearTimeout(this.resyncTimer);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    for (const c of this.controllers) c.queue.shutDown({ drain: how.drain });
    await Promise.all(this.controllers.flatMap((c) => c.workers));
    if (this.elector) {
      await this.elector.stop();
      await this.electorRun;
    }
    this.metrics.isLeader.set(0);
    await Promise.all(this.servers.map((s) => s.close()));
    this.log.info("stopped", { reason: how.exit.reason });
    this.resolveDone(how.exit);
  }
}

/**
 * Starts the runtime and stops it gracefully on SIGTERM/SIGINT; resolves with the exit code the
 * process must exit with (1 after lost leadership, so Kubernetes restarts it as a standby).
 */
export async function runOperator(options: OperatorRuntimeOptions): Promise<number> {
  const runtime = new OperatorRuntime(options);
  const onSignal = () => void runtime.stop();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await runtime.start();
    const exit = await runtime.done;
    return exit.exitCode;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
