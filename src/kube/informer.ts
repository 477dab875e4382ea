// A list-then-watch cache of one kind, emitting add/update/delete to handlers.
//
// client-node's ListWatch does the same core loop but stops on any watch error and has no notion
// of "synced"; an operator needs both (readiness waits for sync; an API server restart must not
// silently end the watch). So: list, watch from the list's resourceVersion, resume from the last
// seen resourceVersion when a watch ends, relist on 410 Gone, and back off (1 s -> 30 s) on errors.
import { type KubeConfig, type KubernetesObject, Watch } from "@kubernetes/client-node";
import { createLogger, type Logger } from "../util/log.js";
import { ExponentialBackoff } from "./backoff.js";
import { type Clock, sleep, systemClock } from "./clock.js";
import { describeError, isGone, statusCodeOf } from "./errors.js";
import { diffRelist } from "./informer-cache.js";
import { keyOf, objectKey } from "./keys.js";
import type { ObjectApi } from "./object-api.js";
import { collectionPath, describeResource, type ResourceRef } from "./resource.js";

export interface InformerHandlers<T extends KubernetesObject> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

/** The slice of client-node's Watch the informer uses; tests may wrap the real one. */
export interface WatchLike {
  watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

export interface InformerOptions {
  readonly resource: ResourceRef;
  readonly kubeConfig: KubeConfig;
  readonly objects: ObjectApi;
  /** Watch one namespace; default all. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly watch?: WatchLike;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Page size of lists. Default 500. */
  readonly pageSize?: number;
}

type WatchOutcome = { readonly gone: boolean; readonly error?: unknown };

export class Informer<T extends KubernetesObject = KubernetesObject> {
  readonly resource: ResourceRef;
  private readonly opts: InformerOptions;
  private readonly store = new Map<string, T>();
  private readonly handlers: Array<InformerHandlers<T>> = [];
  private readonly watcher: WatchLike;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff = new ExponentialBackoff();
  private readonly stopSignal = new AbortController();
  private resourceVersion = "";
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private activeWatch: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private relistCount = 0;

  constructor(options: InformerOptions) {
    this.opts = options;
    this.resource = options.resource;
    this.watcher = options.watch ?? new Watch(options.kubeConfig);
    this.clock = options.clock ?? systemClock;
    this.log = (options.log ?? createLogger()).child({
      component: "informer",
      resource: describeResource(options.resource),
    });
  }

  /** Handlers registered before start() see every object as an add during the first list. */
  on(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    this.activeWatch?.abort();
    await this.loop;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first complete list; never rejects (list errors are retried). */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** How many times the informer listed from scratch (1 after the initial list). */
  get relists(): number {
    return this.relistCount;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(keyOf({ namespace, name }));
  }

  getByKey(key: string): T | undefined {
    return this.store.get(key);
  }

  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === "") await this.relist();
        const outcome = await this.watchOnce();
        if (signal.aborted) break;
        if (outcome.gone) {
          this.log.info("watch expired (410 Gone), relisting");
          this.resourceVersion = "";
          continue;
        }
        if (outcome.error !== undefined) throw outcome.error;
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.resourceVersion = "";
          continue;
        }
        const delay = this.backoff.next("watch");
        this.log.warn("list/watch failed, retrying", { error: describeError(err), retryInMs: delay });
        await sleep(this.clock, delay, signal);
      }
    }
  }

  private async relist(): Promise<void> {
    const { resource, namespace, labelSelector } = this.opts;
    const items: T[] = [];
    let continueToken: string | undefined;
    let listVersion = "";
    do {
      const page = await this.opts.objects.list<T>(
        resource.apiVersion,
        resource.kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
        this.opts.pageSize ?? 500,
        continueToken,
      );
      // A list's items carry no apiVersion/kind; handlers and apply calls need them.
      for (const item of page.items)
        items.push({ ...item, apiVersion: resource.apiVersion, kind: resource.kind });
      if (!listVersion) listVersion = page.metadata?.resourceVersion ?? "";
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    const diff = diffRelist(this.store, items);
    this.store.clear();
    for (const item of items) this.store.set(objectKey(item), item);
    this.resourceVersion = listVersion;
    this.relistCount += 1;
    this.backoff.reset("watch");
    for (const obj of diff.added) this.emit((h) => h.add?.(obj));
    for (const { obj, old } of diff.updated) this.emit((h) => h.update?.(obj, old));
    for (const obj of diff.deleted) this.emit((h) => h.delete?.(obj));
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    const { resource, namespace, labelSelector } = this.opts;
    return new Promise<WatchOutcome>((resolve) => {
      let gone = false;
      let errorEvent: unknown;
      const onEvent = (phase: string, apiObj: unknown) => {
        if (phase === "ERROR") {
          // The server sends a Status object, then closes the stream; done() follows.
          if (statusCodeOf(apiObj) === 410) gone = true;
          else errorEvent = new Error(`watch error event: ${JSON.stringify(apiObj)}`);
          return;
        }
        const obj = apiObj as T;
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (phase === "BOOKMARK") return;
        this.backoff.reset("watch");
        this.apply(phase, { ...obj, apiVersion: resource.apiVersion, kind: resource.kind });
      };
      const onDone = (err: unknown) => {
        this.activeWatch = undefined;
        if (gone || isGone(err)) resolve({ gone: true });
        else if (err || errorEvent) resolve({ gone: false, error: err ?? errorEvent });
        else resolve({ gone: false });
      };
      this.watcher
        .watch(
          collectionPath(resource, namespace),
          { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, labelSelector },
          onEvent,
          onDone,
        )
        .then(
          (controller) => {
            this.activeWatch = controller;
            if (this.stopSignal.signal.aborted) controller.abort();
          },
          (err: unknown) => resolve({ gone: false, error: err }),
        );
    });
  }

  private apply(phase: string, obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (phase === "DELETED") {
      this.store.delete(key);
      this.emit((h) => h.delete?.(old ?? obj));
      return;
    }
    this.store.set(key, obj);
    if (!old) this.emit((h) => h.add?.(obj));
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
      this.emit((h) => h.update?.(obj, old));
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        // A handler bug must not stop the watch of every controller sharing it.
        this.log.error("informer handler threw", { error: describeError(err) });
      }
    }
  }
}
