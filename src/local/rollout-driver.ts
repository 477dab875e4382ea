// The local shell of one EmbeddingModel's rollouts: the same advanceRollout as the operator, applied
// to child processes and router config instead of Deployments. Each tick (every TICK_MS, and at once
// after a spec change or a command) it gathers the inputs — the candidate's fingerprint from its
// /info, a verdict when a check is due (two /metrics scrapes: the router's encoder calls per revision,
// or the encoders' own series when the router saw too little, e.g. only probes), a command from the
// command file — calls advanceRollout, and applies `desired`: starts or stops encoder processes,
// writes the router split, sends probes, persists everything to <data-dir>/rollouts/<model>.json so a
// serve restart resumes at the same step. I/O goes through `RolloutIo`, so tests can drive it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CanaryStatus, type ModelRolloutPolicy } from "../api/v1alpha1/index.js";
import { analyze, type MetricWindow } from "../rollout/analysis.js";
import { parseRolloutCommand, type RolloutCommand } from "../rollout/command.js";
import { encoderRequests, requestWindow, routerEncoderCalls } from "../rollout/metrics-window.js";
import { probeBatch, probeTexts } from "../rollout/probe-texts.js";
import type { Sample } from "../rollout/prometheus-text.js";
import {
  advanceRollout,
  analysisDue,
  type DesiredState,
  type IndexHandOff,
  type RolloutEvent,
  type RolloutResult,
} from "../rollout/state-machine.js";
import type { Logger } from "../util/log.js";
import { replaceJsonFile } from "../util/replace-file.js";
import { CheckBaseline } from "./check-baseline.js";
import { worthRestarting } from "./child-exit.js";
import { ChildStartError } from "./child-process.js";
import type { ModelView } from "./generation-routing.js";
import type { EncoderRouting } from "./plan.js";

/** How often the driver looks at the clock and the command file; checks run when they are due. */
export const TICK_MS = 500;

/** Wait this long before starting an encoder revision again after it failed to start. */
export const START_RETRY_MS = 10_000;

/** Test hook: shortens analysis intervals below the CRD's 10 s minimum (tests and demos only). */
export const TEST_INTERVAL_ENV = "EMBEDOPS_TEST_MIN_INTERVAL_SECONDS";

export function intervalMsOf(
  policy: Pick<ModelRolloutPolicy, "analysisIntervalSeconds">,
  env = process.env,
): number {
  const raw = Number(env[TEST_INTERVAL_ENV]);
  const seconds =
    Number.isFinite(raw) && raw > 0
      ? Math.min(policy.analysisIntervalSeconds, raw)
      : policy.analysisIntervalSeconds;
  return seconds * 1000;
}

// ---- the persisted state: <data-dir>/rollouts/<model>.json -------------------------------------

const rolloutFile = z.object({
  model: z.string(),
  stableRevision: z.string(),
  stableFingerprint: z.string().optional(),
  /** Encoder flags per revision, so a restarted serve starts the stable as it was, not as the file now says. */
  args: z.record(z.string(), z.array(z.string())),
  canary: CanaryStatus.optional(),
  /** The policy's, for `embedops rollout status` ("checks failed 1/2"). */
  maxFailedChecks: z.number().int().optional(),
  updatedAt: z.string().optional(),
});
export type RolloutFile = z.infer<typeof rolloutFile>;

export function rolloutFilePath(dataDir: string, model: string): string {
  return join(dataDir, "rollouts", `${model}.json`);
}

/** Where `embedops rollout promote|abort|retry` leaves a command for a running serve. */
export function rolloutCommandPath(dataDir: string, model: string): string {
  return join(dataDir, "rollouts", `${model}.command`);
}

export function readRolloutFile(dataDir: string, model: string): RolloutFile | undefined {
  const path = rolloutFilePath(dataDir, model);
  if (!existsSync(path)) return undefined;
  const parsed = rolloutFile.safeParse(JSON.parse(readFileSync(path, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

export function writeRolloutFile(dataDir: string, file: RolloutFile): void {
  replaceJsonFile(rolloutFilePath(dataDir, file.model), file);
}

// ---- I/O ---------------------------------------------------------------------------------------

export interface EncoderHandle {
  readonly revision: string;
  /** The URL the router calls (a test may put a proxy in front of a candidate). */
  readonly routedUrl: string;
  /** The encoder itself: /info, /metrics and probes. */
  readonly url: string;
}

export interface RolloutIo {
  now(): number;
  startEncoder(
    revision: string,
    args: readonly string[],
    role: "stable" | "candidate",
  ): Promise<EncoderHandle>;
  stopEncoder(handle: EncoderHandle): Promise<void>;
  /** The /info fingerprint, or undefined when it cannot be read (not ready). */
  fingerprint(url: string): Promise<string | undefined>;
  /** Samples of GET url/metrics, or undefined when it cannot be read. */
  scrape(url: string): Promise<Sample[] | undefined>;
  /** The routers of the indexes built on this model. */
  routers(): readonly string[];
  route(encoder: EncoderRouting): Promise<void>;
  probe(url: string, texts: readonly string[]): Promise<void>;
  /** The command file's content, if any. */
  readCommand(): string | undefined;
  save(file: RolloutFile): void;
  /** A human line for the terminal, besides the JSON log line. */
  say(line: string): void;
  /** A rollout ended (Succeeded or Failed, with the status' reason): serve counts it in its /metrics. */
  ended?(result: "Succeeded" | "Failed", reason: string): void;
  /**
   * While the candidate is held at NewGenerationRequired: how far the indexes built on the model are
   * in their move to its fingerprint (the model promotes once all of them serve it).
   */
  indexes?(held: { fingerprint: string; startedAt: string }): IndexHandOff | undefined;
}

interface Spec {
  revision: string;
  args: readonly string[];
  policy: ModelRolloutPolicy;
  replicas: number;
}

interface Scrape {
  routers: Sample[];
  encoders: Sample[];
}

export class RolloutDriver {
  private readonly encoders = new Map<string, EncoderHandle>();
  private readonly baseline = new CheckBaseline<Scrape>();
  private probesSent = 0;
  private probeWindow: string | undefined;
  private probeRound = 0;
  private probeQueue: { handle: EncoderHandle; text: string }[] = [];
  private probing = false;
  private lastRouting = "";
  private routing: EncoderRouting | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private badCommand: string | undefined;
  private readonly startFailures = new Map<string, number>();
  /** Per candidate revision: its exits before listening, and once they are fatal, what it said. */
  private readonly startExits = new Map<string, { count: number; fatal?: string }>();

  constructor(
    readonly model: string,
    private spec: Spec,
    private file: RolloutFile,
    private readonly io: RolloutIo,
    private readonly log: Logger,
    /** Tests tick by hand: no timers. */
    private readonly manual = false,
  ) {}

  /** The persisted state: stable revision, its args, and status.canary. */
  get state(): RolloutFile {
    return this.file;
  }

  get stable(): EncoderHandle | undefined {
    return this.encoders.get(this.file.stableRevision);
  }

  /** What runs now, for the indexes' generation drivers: the stable routing and a held candidate. */
  view(): ModelView {
    const c = this.file.canary;
    const held =
      c?.phase === "Paused" && c.reason === "NewGenerationRequired" && c.fingerprint !== undefined
        ? c
        : undefined;
    const handle = held ? this.encoders.get(held.revision) : undefined;
    const stable = this.stable;
    return {
      ...(stable
        ? {
            stable: {
              fingerprint: this.file.stableFingerprint,
              routing: this.routing ?? { url: stable.routedUrl, revision: stable.revision },
            },
          }
        : {}),
      ...(held?.fingerprint
        ? {
            held: {
              fingerprint: held.fingerprint,
              revision: held.revision,
              startedAt: held.startedAt,
              ...(handle ? { url: handle.url, routedUrl: handle.routedUrl } : {}),
            },
          }
        : {}),
    };
  }

  /** Starts the stable encoder (its persisted args) and returns it; call once before start(). */
  async startStable(): Promise<EncoderHandle> {
    const rev = this.file.stableRevision;
    const handle = await this.io.startEncoder(rev, this.file.args[rev] ?? this.spec.args, "stable");
    this.encoders.set(rev, handle);
    this.file.stableFingerprint = await this.io.fingerprint(handle.url);
    return handle;
  }

  /** Begins ticking. */
  start(): void {
    this.schedule(0);
  }

  /** A new spec from a reloaded file: a changed revision starts (or replaces) a rollout at the next tick. */
  update(spec: Spec): void {
    const changed = spec.revision !== this.spec.revision;
    this.spec = spec;
    if (changed) this.log.info("rollout: the spec names a new revision", { revision: spec.revision });
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await Promise.all([...this.encoders.values()].map((h) => this.io.stopEncoder(h)));
    this.encoders.clear();
  }

  private schedule(ms: number): void {
    if (this.stopped || this.manual) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  /** One reconcile; ticks never overlap (a tick asked for meanwhile runs right after). */
  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reconcile()
      .catch((err: unknown) => this.log.error("rollout: reconcile failed", { model: this.model, err }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.tick();
        }
      });
    return this.running;
  }

  private async reconcile(): Promise<void> {
    const { spec, io } = this;
    const intervalMs = intervalMsOf(spec.policy);
    const status = this.file.canary;
    const candidate = this.encoders.get(spec.revision);
    const candidateFingerprint =
      status?.phase === "Initializing" && status.revision === spec.revision && candidate
        ? await io.fingerprint(candidate.url)
        : undefined;
    const candidateStartFailure =
      status?.phase === "Initializing" && status.revision === spec.revision && !candidate
        ? this.startExits.get(spec.revision)?.fatal
        : undefined;
    const now = io.now();
    const held =
      status?.phase === "Paused" && status.reason === "NewGenerationRequired" && status.fingerprint
        ? { fingerprint: status.fingerprint, startedAt: status.startedAt }
        : undefined;
    const indexes = held ? io.indexes?.(held) : undefined;
    let verdict: ReturnType<typeof analyze> | undefined;
    let scrape: Scrape | undefined;
    if (status?.phase === "Progressing" && analysisDue(status, now, intervalMs)) {
      scrape = await this.scrape();
      const before = this.baseline.of(status.lastCheckTime);
      if (scrape && before) {
        verdict = this.verdict(status.revision, status.stableRevision, status.weight, before, scrape);
      }
    }
    const result = advanceRollout({
      policy: spec.policy,
      status,
      ...(verdict ? { verdict } : {}),
      now,
      stableRevision: this.file.stableRevision,
      candidateRevision: spec.revision,
      stableFingerprint: this.file.stableFingerprint,
      ...(candidateFingerprint ? { candidateFingerprint } : {}),
      ...(candidateStartFailure ? { candidateStartFailure } : {}),
      ...this.command(),
      replicas: spec.replicas,
      intervalMs,
      ...(indexes ? { indexes } : {}),
    });
    if (candidateStartFailure !== undefined && result.status?.phase === "Failed") {
      // Consumed: a `retry` starts the encoder again at once.
      this.startExits.delete(spec.revision);
      this.startFailures.delete(spec.revision);
    }
    this.report(result, verdict);
    await this.apply(result, scrape);
    const next = result.requeueAfterMs === undefined ? TICK_MS : Math.min(TICK_MS, result.requeueAfterMs);
    this.schedule(next);
  }

  private command(): { command?: RolloutCommand } {
    const text = this.io.readCommand()?.trim();
    if (!text || text === this.file.canary?.lastCommand) return {};
    const parsed = parseRolloutCommand(text);
    if (!parsed.ok) {
      if (this.badCommand !== text)
        this.log.warn("rollout: command ignored", { model: this.model, error: parsed.error });
      this.badCommand = text;
      return {};
    }
    return { command: parsed.command };
  }

  private async scrape(): Promise<Scrape | undefined> {
    const routers = await Promise.all(this.io.routers().map((u) => this.io.scrape(u)));
    const encoders = await Promise.all([...this.encoders.values()].map((h) => this.io.scrape(h.url)));
    if (routers.some((r) => r === undefined) || encoders.some((e) => e === undefined)) return undefined;
    return { routers: routers.flat() as Sample[], encoders: encoders.flat() as Sample[] };
  }

  /**
   * The router's view when it saw enough of the candidate (network and queueing included: what
   * clients feel); else the encoders' own series, which also count the probes sent straight to them.
   */
  private window(revision: string, before: Scrape, after: Scrape): MetricWindow {
    const viaRouter = requestWindow(before.routers, after.routers, routerEncoderCalls(revision));
    if (viaRouter.requests >= this.spec.policy.slo.minRequests) return viaRouter;
    const own = requestWindow(before.encoders, after.encoders, encoderRequests(revision));
    return own.requests > viaRouter.requests ? own : viaRouter;
  }

  private verdict(candidate: string, stable: string, weight: number, before: Scrape, after: Scrape) {
    return analyze({
      slo: this.spec.policy.slo,
      candidate: this.window(candidate, before, after),
      stable: this.window(stable, before, after),
      weight,
    });
  }

  private report(result: RolloutResult, verdict: ReturnType<typeof analyze> | undefined): void {
    const s = result.status;
    const em = `em/${this.model}`;
    if (verdict && s) {
      this.log.info("rollout: check", {
        model: this.model,
        revision: s.revision,
        result: verdict.result,
        message: verdict.message,
        checks: verdict.checks.map((c) => ({
          name: c.name,
          value: c.value,
          limit: c.limit,
          result: c.result,
        })),
      });
    }
    for (const t of result.transitions) {
      this.log.info("rollout: phase", {
        model: this.model,
        revision: s?.revision,
        from: t.from ?? null,
        to: t.to,
      });
      if (t.to === "Succeeded" || t.to === "Failed") this.io.ended?.(t.to, s?.reason ?? "");
    }
    for (const e of result.events) this.event(em, e, s?.revision, s?.weight);
  }

  private event(em: string, e: RolloutEvent, revision: string | undefined, weight: number | undefined): void {
    const fields = { model: this.model, revision, weight, reason: e.reason, message: e.message };
    if (e.type === "Warning") this.log.warn("rollout: event", fields);
    else this.log.info("rollout: event", fields);
    this.io.say(`${em}  ${e.type} ${e.reason}: ${e.message}`);
  }

  private async apply(result: RolloutResult, scrape: Scrape | undefined): Promise<void> {
    const { desired, status } = result;
    const before = JSON.stringify(this.file);
    if (status) this.file.canary = status;
    this.file.maxFailedChecks = this.spec.policy.maxFailedChecks;
    // Encoders: the stable runs; what is not desired stops once the router no longer sends to it
    // (below), before a new candidate starts, so a replaced candidate never runs beside its
    // successor; the candidate gets traffic only once it is up.
    await this.ensure(desired.stableRevision, "stable");
    if (status?.phase === "Succeeded" && this.file.stableRevision !== desired.stableRevision) {
      this.file.stableRevision = desired.stableRevision;
      if (status.fingerprint) this.file.stableFingerprint = status.fingerprint;
    } else if (!status && this.file.stableRevision !== desired.stableRevision) {
      // Deployed directly (nothing to compare with): the new revision is the stable one.
      this.file.stableRevision = desired.stableRevision;
      const h = this.encoders.get(desired.stableRevision);
      this.file.stableFingerprint = h ? await this.io.fingerprint(h.url) : undefined;
    }
    for (const rev of [desired.stableRevision, desired.candidateRevision]) {
      if (rev !== undefined && this.file.args[rev] === undefined && rev === this.spec.revision) {
        this.file.args[rev] = [...this.spec.args];
      }
    }
    await this.route(desired);
    const keep = new Set([desired.stableRevision]);
    if (desired.candidateRevision && desired.candidateReplicas > 0) keep.add(desired.candidateRevision);
    for (const [rev, handle] of this.encoders) {
      if (keep.has(rev)) continue;
      this.encoders.delete(rev);
      this.log.info("rollout: encoder stopped", { model: this.model, revision: rev });
      await this.io.stopEncoder(handle);
    }
    if (
      desired.candidateRevision &&
      desired.candidateReplicas > 0 &&
      !this.encoders.has(desired.candidateRevision)
    ) {
      await this.ensure(desired.candidateRevision, "candidate");
      await this.route(desired);
    }
    for (const rev of Object.keys(this.file.args)) if (!keep.has(rev)) delete this.file.args[rev];
    this.window0(status, scrape);
    this.probe(desired, status);
    if (JSON.stringify(this.file) !== before) {
      this.file.updatedAt = new Date(this.io.now()).toISOString();
      this.io.save(this.file);
    }
  }

  private async ensure(revision: string, role: "stable" | "candidate"): Promise<void> {
    if (this.encoders.has(revision)) return;
    const args = this.file.args[revision] ?? (revision === this.spec.revision ? this.spec.args : undefined);
    if (args === undefined) {
      this.log.error("rollout: no encoder flags known for revision", { model: this.model, revision });
      return;
    }
    const retryAt = this.startFailures.get(revision);
    if (retryAt !== undefined && this.io.now() < retryAt) return;
    this.log.info("rollout: encoder starting", { model: this.model, revision, role });
    try {
      this.encoders.set(revision, await this.io.startEncoder(revision, args, role));
      this.startFailures.delete(revision);
      this.startExits.delete(revision);
    } catch (err) {
      // Not every tick: an encoder that did not start is retried now and then. A candidate that
      // refused to start (exit 2: a bad flag, a model directory that contradicts the spec) fails
      // its rollout at once; one that exited before listening for another reason (a model that
      // does not load, or a passing fault such as a port still held) does at its second such exit,
      // as the kubelet's CrashLoopBackOff. Anything else (e.g. not ready in time) is left to the
      // state machine's progress deadline.
      this.startFailures.set(revision, this.io.now() + START_RETRY_MS);
      if (err instanceof ChildStartError && role === "candidate") {
        const exits = (this.startExits.get(revision)?.count ?? 0) + 1;
        this.startExits.set(revision, { count: exits });
        if (!worthRestarting(err.code) || exits >= 2) {
          this.startExits.set(revision, { count: exits, fatal: err.message });
          this.again = true;
        }
      }
      this.log.error("rollout: encoder did not start", { model: this.model, revision, role, err });
    }
  }

  private async route(desired: DesiredState): Promise<void> {
    const stable = this.encoders.get(desired.stableRevision);
    if (!stable) return;
    const cand = desired.candidateRevision ? this.encoders.get(desired.candidateRevision) : undefined;
    const routing: EncoderRouting = {
      url: stable.routedUrl,
      revision: stable.revision,
      ...(cand && desired.candidateWeight > 0
        ? { canary: { url: cand.routedUrl, revision: cand.revision, weight: desired.candidateWeight } }
        : {}),
    };
    const text = JSON.stringify(routing);
    if (text === this.lastRouting) return;
    this.routing = routing;
    await this.io.route(routing);
    this.lastRouting = text;
    this.log.info("rollout: router split", {
      model: this.model,
      stable: routing.revision,
      canary: routing.canary?.revision ?? null,
      weight: routing.canary?.weight ?? 0,
    });
  }

  /** A new check window began (a step, a check, a resume): its baseline is a scrape taken now. */
  private window0(status: RolloutResult["status"], scrape: Scrape | undefined): void {
    this.baseline.roll(
      status?.phase === "Progressing",
      status?.lastCheckTime,
      scrape,
      () => this.scrape(),
      () => this.file.canary?.lastCheckTime,
    );
  }

  /** Spreads policy.probe.requests over each interval while the state machine asks for probes. */
  private probe(desired: DesiredState, status: RolloutResult["status"]): void {
    if (!desired.probe || !status || !desired.candidateRevision) return;
    const window = status.lastCheckTime;
    if (window !== this.probeWindow) {
      this.probeWindow = window;
      this.probesSent = 0;
      this.probeRound += 1;
    }
    const intervalMs = intervalMsOf(this.spec.policy);
    const elapsed = this.io.now() - Date.parse(window ?? status.startedAt);
    const share = Math.min(1, Math.max(0, elapsed / (intervalMs * 0.8)));
    const total = this.spec.policy.probe.requests;
    const due = Math.ceil(total * Math.max(share, TICK_MS / intervalMs)) - this.probesSent;
    if (due <= 0) return;
    const texts = probeBatch(
      probeTexts({ configured: this.spec.policy.probe.texts }),
      due,
      this.probeRound + this.probesSent,
    );
    this.probesSent += due;
    const targets = [this.encoders.get(desired.candidateRevision)];
    if (desired.probeStable) targets.push(this.encoders.get(desired.stableRevision));
    for (const h of targets) if (h) this.probeQueue.push(...texts.map((t) => ({ handle: h, text: t })));
    void this.pumpProbes();
  }

  /**
   * One probe in flight at a time: probes are a trickle that lets a quiet canary conclude, and a
   * burst of them would queue in the encoder and fail its p99 by itself.
   */
  private async pumpProbes(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      for (let p = this.probeQueue.shift(); p && !this.stopped; p = this.probeQueue.shift()) {
        if (!this.encoders.has(p.handle.revision)) continue;
        await this.io
          .probe(p.handle.url, [p.text])
          .catch((err: unknown) =>
            this.log.debug("rollout: probe failed", { revision: p?.handle.revision, err }),
          );
      }
    } finally {
      this.probing = false;
    }
  }
}

/** The state a serve with no rollout file starts from: the file's revision is stable. */
export function initialRolloutFile(model: string, revision: string, args: readonly string[]): RolloutFile {
  return { model, stableRevision: revision, args: { [revision]: [...args] } };
}
