// An events.k8s.io/v1 Event recorder. The same (object, type, reason, message) seen again within
// the window becomes series.count + 1 on the existing Event instead of a new object, so a
// condition that repeats does not flood `kubectl get events`. Controllers still emit Events only
// on transitions: an increment is a write, and a steady state must issue none.
//
// Recording never fails a reconcile: Events are best-effort diagnostics (the API server may also
// expire them), so errors are logged, not thrown.
import { randomBytes } from "node:crypto";
import { type KubernetesObject, PatchStrategy } from "@kubernetes/client-node";
import { createLogger, type Logger } from "../util/log.js";
import { type Clock, systemClock, toMicroTime } from "./clock.js";
import { describeError, isNotFound } from "./errors.js";
import type { ObjectApi } from "./object-api.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  normal(regarding: KubernetesObject, reason: string, message: string): Promise<void>;
  warning(regarding: KubernetesObject, reason: string, message: string): Promise<void>;
}

interface SeriesEntry {
  readonly name: string;
  readonly namespace: string;
  count: number;
  lastSeenMs: number;
}

export type DedupeDecision =
  | { readonly action: "create" }
  | {
      readonly action: "increment";
      readonly name: string;
      readonly namespace: string;
      readonly count: number;
    };

/** The pure half: which occurrences start a new Event and which extend a series. */
export class EventDeduper {
  private readonly entries = new Map<string, SeriesEntry>();

  constructor(private readonly windowMs: number) {}

  decide(key: string, nowMs: number): DedupeDecision {
    const entry = this.entries.get(key);
    if (!entry || nowMs - entry.lastSeenMs > this.windowMs) return { action: "create" };
    return { action: "increment", name: entry.name, namespace: entry.namespace, count: entry.count + 1 };
  }

  created(key: string, name: string, namespace: string, nowMs: number): void {
    this.prune(nowMs);
    this.entries.set(key, { name, namespace, count: 1, lastSeenMs: nowMs });
  }

  incremented(key: string, count: number, nowMs: number): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.count = count;
      entry.lastSeenMs = nowMs;
    }
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(nowMs: number): void {
    for (const [key, entry] of this.entries) {
      if (nowMs - entry.lastSeenMs > this.windowMs) this.entries.delete(key);
    }
  }
}

export interface KubeEventRecorderOptions {
  readonly objects: ObjectApi;
  /** reportingController, e.g. "embedops.dev/operator". */
  readonly controller?: string;
  /** reportingInstance: the pod, usually the leader-election identity. */
  readonly instance: string;
  /** Default 10 minutes, core/v1's aggregation window. */
  readonly windowMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
}

export class KubeEventRecorder implements EventRecorder {
  private readonly deduper: EventDeduper;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly controller: string;

  constructor(private readonly opts: KubeEventRecorderOptions) {
    this.deduper = new EventDeduper(opts.windowMs ?? 10 * 60_000);
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.log ?? createLogger()).child({ component: "events" });
    this.controller = opts.controller ?? "embedops.dev/operator";
  }

  normal(regarding: KubernetesObject, reason: string, message: string): Promise<void> {
    return this.record(regarding, "Normal", reason, message);
  }

  warning(regarding: KubernetesObject, reason: string, message: string): Promise<void> {
    return this.record(regarding, "Warning", reason, message);
  }

  async record(regarding: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = regarding.metadata ?? {};
    const key = [meta.uid ?? `${regarding.kind}/${meta.namespace}/${meta.name}`, type, reason, message].join(
      "\u0000",
    );
    const now = this.clock.now();
    const decision = this.deduper.decide(key, now);
    try {
      if (decision.action === "increment") {
        try {
          await this.opts.objects.patch(
            {
              apiVersion: "events.k8s.io/v1",
              kind: "Event",
              metadata: { name: decision.name, namespace: decision.namespace },
              series: { count: decision.count, lastObservedTime: toMicroTime(now) },
            } as KubernetesObject,
            undefined,
            undefined,
            undefined,
            undefined,
            PatchStrategy.MergePatch,
          );
          this.deduper.incremented(key, decision.count, now);
          return;
        } catch (err) {
          // The API server expires Events (1 h by default); start a new one.
          if (!isNotFound(err)) throw err;
          this.deduper.forget(key);
        }
      }
      const namespace = meta.namespace || "default";
      const name = `${meta.name ?? "object"}.${randomBytes(8).toString("hex")}`;
      await this.opts.objects.create({
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace },
        eventTime: toMicroTime(now),
        type,
        reason,
        action: reason,
        // The API server refuses notes over 1 kB.
        note: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
        reportingController: this.controller,
        reportingInstance: this.opts.instance.slice(0, 128),
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: meta.name,
          namespace: meta.namespace,
          uid: meta.uid,
          resourceVersion: meta.resourceVersion,
        },
      } as KubernetesObject);
      this.deduper.created(key, name, namespace, now);
    } catch (err) {
      this.log.warn("recording an event failed", {
        reason,
        type,
        object: meta.name,
        error: describeError(err),
      });
    }
  }
}
