// Lease leader election (coordination.k8s.io/v1): two operator replicas run, one acts.
//
// Contract with the caller: run() resolves when leadership is lost or stop() was called. A
// replica that LOST leadership must exit (the operator process exits non-zero and Kubernetes
// restarts it as a fresh standby): its caches and in-flight reconciles may act on a view the new
// leader no longer shares, and restarting is the only reset that is obviously complete.
// stop() releases the Lease (empty holder) so a successor takes over at its next retry instead of
// waiting out the lease duration.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { CoordinationV1Api, V1Lease, V1LeaseSpec } from "@kubernetes/client-node";
import { createLogger, type Logger } from "../util/log.js";
import { type Clock, sleep, systemClock, timeMs, toMicroTime } from "./clock.js";
import { describeError, isConflict, isNotFound } from "./errors.js";
import {
  decideLease,
  type LeaseRecord,
  type LeaseSpecFields,
  nextLeaseSpec,
  releasedLeaseSpec,
} from "./leader-decision.js";

export type LeaderState = "standby" | "leader" | "stopped";
export type StoppedReason = "lost" | "released";

export interface LeaderElectionOptions {
  readonly coordination: CoordinationV1Api;
  readonly namespace: string;
  /** Lease name. */
  readonly name: string;
  /** Default `hostname_uuid`: unique per process even when two pods share a hostname. */
  readonly identity?: string;
  /** How long a non-renewed lease stays valid for others. Default 15000. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading. Default 10000. */
  readonly renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2000. */
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly onStartedLeading?: () => void;
  readonly onStoppedLeading?: (reason: StoppedReason) => void;
  /** Called when the observed holder changes (including to this replica). */
  readonly onNewLeader?: (identity: string) => void;
}

export function defaultIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

function recordOf(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds,
    leaseTransitions: lease.spec?.leaseTransitions,
  };
}

function toV1Spec(fields: LeaseSpecFields): V1LeaseSpec {
  // The client types MicroTime as Date but serializes a Date with millisecond precision, which the
  // API server's six-digit MicroTime parser refuses; a pre-formatted string goes through as is.
  const micro = (ms: number) => toMicroTime(ms) as unknown as Date;
  return {
    holderIdentity: fields.holderIdentity ?? "",
    leaseDurationSeconds: fields.leaseDurationSeconds,
    acquireTime: micro(fields.acquireTimeMs),
    renewTime: micro(fields.renewTimeMs),
    leaseTransitions: fields.leaseTransitions,
  };
}

export class LeaderElector {
  readonly identity: string;
  private readonly opts: LeaderElectionOptions;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly abort = new AbortController();
  private currentState: LeaderState = "standby";
  private observedRv: string | undefined;
  private observedAtMs = 0;
  private observedHolder: string | undefined;
  private lastRenewMs = 0;
  private lostToOther = false;
  private loop: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.opts = options;
    this.identity = options.identity ?? defaultIdentity();
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    this.log = (options.log ?? createLogger()).child({
      component: "leader-election",
      lease: `${options.namespace}/${options.name}`,
      identity: this.identity,
    });
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error(
        `leader election needs leaseDuration > renewDeadline > retryPeriod, got ${this.leaseDurationMs} ms, ` +
          `${this.renewDeadlineMs} ms, ${this.retryPeriodMs} ms; otherwise a slow leader and a successor overlap`,
      );
    }
  }

  get state(): LeaderState {
    return this.currentState;
  }

  get isLeader(): boolean {
    return this.currentState === "leader";
  }

  /** The holder this replica last observed, itself included. */
  get leader(): string | undefined {
    return this.observedHolder;
  }

  /** Runs until leadership is lost or stop() is called. Call once. */
  run(): Promise<void> {
    if (this.loop) throw new Error("LeaderElector.run() was called twice; create one elector per run");
    this.loop = this.runLoop();
    return this.loop;
  }

  /** Stops campaigning; a leader releases the Lease so a successor starts at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.currentState !== "leader") {
      this.currentState = "stopped";
      return;
    }
    this.currentState = "stopped";
    await this.release();
    this.opts.onStoppedLeading?.("released");
  }

  private async runLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const renewed = await this.tryAcquireOrRenew();
      const now = this.clock.now();
      if (renewed) {
        this.lastRenewMs = now;
        if (this.currentState !== "leader") {
          this.currentState = "leader";
          this.log.info("started leading");
          this.opts.onStartedLeading?.();
        }
      } else if (this.currentState === "leader") {
        if (this.lostToOther || now - this.lastRenewMs >= this.renewDeadlineMs) {
          this.currentState = "stopped";
          this.log.warn("leadership lost", {
            holder: this.observedHolder,
            reason: this.lostToOther ? "another replica holds the lease" : "renew deadline passed",
          });
          this.opts.onStoppedLeading?.("lost");
          return;
        }
      }
      await sleep(this.clock, this.retryPeriodMs, signal);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { coordination, namespace, name } = this.opts;
    const now = this.clock.now();
    let lease: V1Lease | undefined;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) {
        this.log.warn("reading the lease failed", { error: describeError(err) });
        return false;
      }
    }
    const rv = lease?.metadata?.resourceVersion;
    if (rv !== this.observedRv) {
      this.observedRv = rv;
      this.observedAtMs = now;
    }
    const record = lease ? recordOf(lease) : undefined;
    this.noteHolder(record?.holderIdentity);
    const decision = decideLease(
      { record, observedAtMs: this.observedAtMs },
      now,
      this.identity,
      this.leaseDurationMs,
    );
    if (decision.action === "wait") {
      if (this.currentState === "leader") this.lostToOther = true;
      return false;
    }
    const fields = nextLeaseSpec(
      decision,
      record,
      timeMs(lease?.spec?.acquireTime),
      now,
      this.identity,
      this.leaseDurationMs,
    );
    if (!fields) return false;
    try {
      const written =
        lease === undefined
          ? await coordination.createNamespacedLease({
              namespace,
              body: { metadata: { name, namespace }, spec: toV1Spec(fields) },
            })
          : await coordination.replaceNamespacedLease({
              name,
              namespace,
              // resourceVersion makes this a compare-and-swap: if another replica wrote in between,
              // the API server answers 409 and that replica has won this round.
              body: { metadata: { name, namespace, resourceVersion: rv }, spec: toV1Spec(fields) },
            });
      this.observedRv = written.metadata?.resourceVersion;
      this.observedAtMs = now;
      this.noteHolder(this.identity);
      if (decision.action === "acquire") this.log.info("acquired lease", { reason: decision.reason });
      return true;
    } catch (err) {
      if (isConflict(err)) {
        this.log.debug("lost a race for the lease", { action: decision.action });
      } else {
        this.log.warn("writing the lease failed", { action: decision.action, error: describeError(err) });
      }
      return false;
    }
  }

  private async release(): Promise<void> {
    const { coordination, namespace, name } = this.opts;
    try {
      const lease = await coordination.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== this.identity) return;
      await coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion },
          spec: toV1Spec(releasedLeaseSpec(recordOf(lease), this.clock.now())),
        },
      });
      this.log.info("released lease");
    } catch (err) {
      // Not fatal: the successor waits out the lease duration instead of starting at once.
      this.log.warn("releasing the lease failed; a successor will wait for it to expire", {
        error: describeError(err),
      });
    }
  }

  private noteHolder(holder: string | undefined): void {
    const h = holder ?? "";
    if (h === "" || h === this.observedHolder) return;
    this.observedHolder = h;
    this.opts.onNewLeader?.(h);
  }
}
