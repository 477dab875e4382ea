// Everything the router needs to serve one generation under one config: shard replica sets,
// clients, the encoder guard, and the probes that keep liveness and the fingerprint check current.
// A config reload builds a new runtime (carrying over what the old runtime of the same generation
// learned) and swaps it in; index-runtime.ts holds the active one and the optional candidate.

import type { Logger } from "../util/log.js";
import { DEFAULT_REVISION, type Generation, type RouterConfig } from "./config.js";
import { EncoderClient } from "./encoder-client.js";
import { EncoderRevisions } from "./encoder-revisions.js";
import { type HttpClient, RequestFailed } from "./http-client.js";
import type { RouterMetrics } from "./metrics.js";
import { type ReplicaState, ShardReplicas } from "./replica-pool.js";
import {
  afterPoll,
  afterStart,
  nextRepairStep,
  type PeerView,
  type RepairResult,
  type SyncView,
} from "./replica-repair.js";
import { ShardClient } from "./shard-client.js";
import type { ShardQueryContext } from "./shard-query.js";

/** Consecutive probe timeouts after which a replica counts as down (refusals count at once). */
const PROBE_TIMEOUTS_BEFORE_DOWN = 3;

/** Replica probes run at least this often: a dead replica costs every query a failed attempt. */
const MAX_PROBE_INTERVAL_MS = 1000;

export class GenerationRuntime {
  readonly shards: ShardReplicas[];
  readonly shardClient: ShardClient;
  readonly encoder: EncoderRevisions;
  readonly queryContext: ShardQueryContext;
  private timers: NodeJS.Timeout[] = [];
  private readonly probeTimeouts = new Map<string, number>();

  constructor(
    readonly config: RouterConfig,
    readonly generation: Generation,
    http: HttpClient,
    private readonly metrics: RouterMetrics,
    private readonly log: Logger,
    previous?: GenerationRuntime,
  ) {
    const gen = generation;
    this.shards = gen.shards.map(
      (s) =>
        new ShardReplicas(
          s.name,
          s.replicas,
          previous?.shards.find((p) => p.name === s.name),
          s.syncing,
        ),
    );
    this.shardClient = new ShardClient(http, gen.fingerprint);
    const enc = gen.encoder;
    const canary = enc?.canary;
    this.encoder = new EncoderRevisions(
      {
        client: enc ? new EncoderClient(http, enc.url, config.encoderApiKey) : null,
        revision: enc?.revision ?? DEFAULT_REVISION,
      },
      canary
        ? {
            client: new EncoderClient(http, canary.url, config.encoderApiKey),
            revision: canary.revision,
            weight: canary.weight,
          }
        : undefined,
      gen,
      metrics,
      previous?.encoder,
    );
    this.queryContext = {
      client: this.shardClient,
      metrics,
      hedge: config.hedge,
      timeoutMs: config.timeoutMs,
    };
  }

  get name(): string {
    return this.generation.name;
  }

  get fingerprint(): string {
    return this.generation.fingerprint;
  }

  /** Runs the first checks (so readiness is known) and starts the periodic ones. */
  async start(): Promise<void> {
    await Promise.all([this.checkEncoder(), this.probeReplicas()]);
    const every = (ms: number, fn: () => Promise<void>) => {
      let running = false;
      const t = setInterval(() => {
        if (running) return;
        running = true;
        fn().finally(() => {
          running = false;
        });
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.checkIntervalMs, () => this.checkEncoder());
    every(Math.min(this.config.checkIntervalMs, MAX_PROBE_INTERVAL_MS), () => this.probeReplicas());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  async checkEncoder(): Promise<void> {
    const before = this.encoder.revisions().map((r) => r.status.state);
    await this.encoder.check(Math.min(this.config.timeoutMs, 5000));
    this.encoder.revisions().forEach(({ revision, status }, i) => {
      if (status.state === before[i]) return;
      const fields = "message" in status ? { message: status.message } : {};
      const level = status.state === "ok" || status.state === "none" ? "info" : "warn";
      this.log[level]("encoder check", {
        generation: this.generation.name,
        revision,
        state: status.state,
        ...fields,
      });
    });
  }

  async probeReplicas(): Promise<void> {
    const timeoutMs = Math.min(this.config.timeoutMs, MAX_PROBE_INTERVAL_MS);
    await Promise.all(
      this.shards.flatMap((shard) =>
        shard.replicas.map(async (r) => {
          let ok = false;
          let why = "";
          try {
            const readiness = await this.shardClient.readiness(r.url, { timeoutMs });
            ok = readiness.ok;
            if (ok && readiness.syncing !== r.catchingUp)
              this.log.info(
                readiness.syncing ? "replica catching up: not queried" : "replica catch-up over",
                {
                  generation: this.generation.name,
                  shard: shard.name,
                  replica: r.url,
                },
              );
            if (ok) r.catchingUp = readiness.syncing;
            if (!ok) why = "/readyz is not 200";
            this.probeTimeouts.delete(r.url);
          } catch (err) {
            why = (err as Error).message;
            // A busy replica may miss one probe's deadline; only repeated timeouts mean it is gone.
            if (err instanceof RequestFailed && err.reason === "timeout") {
              const n = (this.probeTimeouts.get(r.url) ?? 0) + 1;
              this.probeTimeouts.set(r.url, n);
              if (n < PROBE_TIMEOUTS_BEFORE_DOWN) return;
            }
          }
          if (ok !== r.live)
            this.log[ok ? "info" : "warn"]("replica liveness changed", {
              generation: this.generation.name,
              shard: shard.name,
              replica: r.url,
              live: ok,
              why,
            });
          if (ok) shard.markUp(r.url);
          else shard.markDown(r.url, why);
          this.metrics.replicaLive.set({ shard: shard.name, replica: r.url }, ok ? 1 : 0);
        }),
      ),
    );
    await this.repairLagging(timeoutMs);
  }

  /** One step of every lagging replica's repair (replica-repair.ts decides, this does the HTTP). */
  async repairLagging(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.shards.map(async (shard) => {
        await Promise.all(shard.replicas.map((r) => this.repairStep(shard, r, timeoutMs)));
        this.metrics.replicasLagging.set(
          { generation: this.generation.name, shard: shard.name },
          shard.laggingCount(),
        );
      }),
    );
  }

  private async repairStep(shard: ShardReplicas, r: ReplicaState, timeoutMs: number): Promise<void> {
    const lag = r.lagging;
    if (!lag) return;
    const peers: PeerView[] = shard.replicas
      .filter((p) => p !== r)
      .map((p) => ({
        url: p.url,
        live: p.live,
        syncing: p.syncing,
        lagging: p.lagging !== undefined,
        catchingUp: p.catchingUp,
      }));
    const now = Date.now();
    const step = nextRepairStep(lag, r, peers, now);
    if (step.kind === "wait") {
      if (lag.repair.phase === "waiting") lag.repair.reason = step.reason;
      return;
    }
    let result: RepairResult;
    if (step.kind === "start") {
      const missesBefore = lag.misses;
      let answer: SyncView | { callFailed: string };
      try {
        answer = await this.shardClient.startSync(r.url, step.from, step.afterSeq, { timeoutMs });
      } catch (err) {
        answer = { callFailed: (err as Error).message };
      }
      result = afterStart(lag, step, answer, missesBefore, peers, Date.now());
      if (result.repair?.phase === "catching-up")
        this.log.info("replica repair: catch-up running", {
          ...this.where(shard, r),
          from: result.repair.from,
          afterSeq: result.repair.afterSeq,
          own: result.repair.own,
          coversMisses: result.repair.covers,
          misses: lag.misses,
        });
    } else {
      let answer: SyncView | { callFailed: string };
      try {
        answer = await this.shardClient.syncStatus(r.url, { timeoutMs });
      } catch (err) {
        answer = { callFailed: (err as Error).message };
      }
      result = afterPoll(lag, answer, peers, Date.now());
      if (result.outcome === "repaired" && !("callFailed" in answer)) {
        this.log.info("replica repaired: in sync again, queried", {
          ...this.where(shard, r),
          from: lag.repair.phase === "catching-up" ? lag.repair.from : undefined,
          afterSeq: lag.repair.phase === "catching-up" ? lag.repair.afterSeq : undefined,
          rowsCaughtUp: answer.upserted + answer.deleted,
          skipped: answer.skipped,
          misses: lag.misses,
          laggingMs: Date.now() - lag.since,
        });
      }
    }
    if (result.outcome) {
      this.metrics.replicaRepairs.inc({
        generation: this.generation.name,
        shard: shard.name,
        outcome: result.outcome,
      });
      if (result.outcome !== "repaired")
        this.log.warn(`replica repair: catch-up ${result.outcome}`, {
          ...this.where(shard, r),
          reason: result.reason,
          retryInMs: result.repair?.phase === "waiting" ? Math.max(0, result.repair.retryAt - Date.now()) : 0,
        });
    }
    // A write missed meanwhile keeps the state object (recordMiss mutates it); only its repair moves.
    if (r.lagging !== lag) return;
    if (result.repair === undefined) r.lagging = undefined;
    else lag.repair = result.repair;
  }

  private where(shard: ShardReplicas, r: ReplicaState) {
    return { generation: this.generation.name, shard: shard.name, replica: r.url };
  }

  /** Why this generation cannot serve, or an empty list. */
  notReadyReasons(): string[] {
    const reasons: string[] = [];
    // Only stable counts: a failing canary's share is served by stable, the router stays ready.
    const enc = this.encoder.status;
    if (enc.state !== "ok" && enc.state !== "none") reasons.push(enc.message);
    for (const s of this.shards) {
      if (s.liveCount() === 0) reasons.push(`shard ${s.name} has no live replica`);
    }
    return reasons;
  }
}
