import { parseDurationMs } from "../api/v1alpha1/duration.js";
import { generationName } from "../core/generation.js";
import {
  advanceGeneration,
  type GateResult,
  type GenerationObservation,
  type GenerationRef,
  type GenerationRolloutResult,
  type GenerationRolloutStatus,
  generationCheckDue,
} from "../generation/generation-rollout.js";
import { BACKFILL_META_KEY, backfillRecordSchema, progressOf } from "../generation/progress.js";
import { queryVerdict } from "../generation/query-verdict.js";
import { parseRolloutCommand, type RolloutCommand } from "../rollout/command.js";
import { probeBatch, probeTexts } from "../rollout/probe-texts.js";
import type { Sample } from "../rollout/prometheus-text.js";
import type { IndexHandOff } from "../rollout/state-machine.js";
import type { Logger } from "../util/log.js";
import { CheckBaseline } from "./check-baseline.js";
import type { GenerationFile } from "./generation-file.js";
import {
  encoderFor,
  type GenerationShards,
  generationRouterConfig,
  localBackfillPlan,
  type ModelView,
  targetOf,
} from "./generation-routing.js";
import type { LocalIndex } from "./plan.js";
import { intervalMsOf } from "./rollout-driver.js";

export const TICK_MS = 1000;
/** A backfill child that failed is started again after this long; it resumes from its cursor. */
export const BACKFILL_RESTART_MS = 3000;

export type GateOutcome = GateResult;

export interface BackfillChild {
  /** Resolves with the exit code (null: killed by a signal). */
  readonly exited: Promise<number | null>;
  /** For tests that kill it (kill -9 mid-backfill). */
  readonly pid?: number | undefined;
  stop(): Promise<void>;
}

export interface GenerationIo {
  now(): number;
  /** What the index's model runs now. */
  model(): ModelView;
  /** Starts one generation's shards (shards × replicas), each ready, and returns their URLs. */
  startShards(ref: GenerationRef): Promise<string[][]>;
  stopShards(generation: string): Promise<void>;
  /** Deletes a generation's data directories (its shards are stopped) and its backfill plan. */
  removeData(generation: string): void;
  writeRouterConfig(config: Record<string, unknown>): void;
  /** The index's router URL, once it runs. */
  routerUrl(): string | undefined;
  /** GET url as JSON; undefined on any failure (not reachable, 404, not JSON). */
  getJson(url: string): Promise<unknown>;
  scrape(url: string): Promise<Sample[] | undefined>;
  /** `embedops backfill` with this plan (plan.ts) as a child process. */
  startBackfill(plan: Record<string, unknown>, generation: string): BackfillChild;
  /** The recall gate of N+1 (src/generation/recall-gate.ts), against N for relevant ids. */
  runGate(
    candidate: GenerationShards & { encoderUrl: string },
    current: GenerationShards & { encoderUrl?: string },
  ): Promise<GateOutcome>;
  /** One query through the router (probe traffic while a check is inconclusive). */
  query(text: string): Promise<void>;
  readCommand(): string | undefined;
  save(file: GenerationFile): void;
  say(line: string): void;
}

interface BackfillRun {
  generation: string;
  child: BackfillChild;
  /** Set once it exited: its code (null: a signal) and when. */
  code?: number | null;
  endedAt?: number;
}

interface GateRun {
  generation: string;
  result?: GateOutcome;
}

export class GenerationDriver {
  /** Running shard processes per generation. */
  private readonly shards = new Map<string, string[][]>();
  /** Per generation and shard, replicas being seeded: in the router's write set only. */
  private readonly syncing = new Map<string, string[][]>();
  private backfill: BackfillRun | undefined;
  private gate: GateRun | undefined;
  private readonly baseline = new CheckBaseline<Sample[]>();
  private lastConfig = "";
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private badCommand: string | undefined;
  private probeRound = 0;

  constructor(
    private index: LocalIndex,
    private file: GenerationFile,
    private readonly io: GenerationIo,
    private readonly log: Logger,
  ) {}

  get state(): GenerationFile {
    return this.file;
  }

  /** The active generation's shards, started by serve before the router. */
  adoptActive(shards: string[][]): void {
    this.shards.set(this.file.active.generation, shards);
  }

  /**
   * Replica seeding (replica-seeder.ts) changed a generation's replicas: `serving` ones answer
   * queries, `syncing` ones take writes only. Rewrites the router config now.
   */
  setReplicas(generation: string, serving: string[][], syncing: string[][]): void {
    this.shards.set(generation, serving);
    this.syncing.set(generation, syncing);
    this.writeConfig(this.lastDesired);
  }

  /** A move to a new generation is under way: replica changes wait until it ends. */
  get moving(): boolean {
    const phase = this.file.status?.phase;
    return phase !== undefined && phase !== "Succeeded" && phase !== "Failed";
  }

  /** A reloaded file's index (its rollout policy and golden set apply from the next tick). */
  update(index: LocalIndex): void {
    this.index = index;
    this.schedule(0);
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.backfill?.child.stop();
  }

  /** The model's encoders changed: rewrite the router config now. */
  refresh(): void {
    this.writeConfig(this.lastDesired);
  }

  /** For the model's hand-off: does this index serve `fingerprint`, or did its move to it fail? */
  handOff(fingerprint: string, since: string): { onCandidate: boolean; failed?: string } {
    if (this.file.active.fingerprint === fingerprint) return { onCandidate: true };
    const s = this.file.status;
    if (
      s?.phase === "Failed" &&
      s.candidateFingerprint === fingerprint &&
      s.reason !== "Superseded" &&
      Date.parse(s.phaseSince) >= Date.parse(since)
    ) {
      return { onCandidate: false, failed: `${s.reason ?? "Failed"}: ${s.message ?? ""}` };
    }
    return { onCandidate: false };
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  tick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.reconcile()
      .catch((err: unknown) =>
        this.log.error("generation: reconcile failed", { index: this.index.name, err }),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.tick();
        } else this.schedule(TICK_MS);
      });
    return this.running;
  }

  private lastDesired: GenerationRolloutResult["desired"] | undefined;

  private async reconcile(): Promise<void> {
    const { io } = this;
    const view = io.model();
    let status = this.file.status;
    // The model started its candidacy again (`rollout retry em/NAME`): a move of this index that
    // failed for the same fingerprint before that starts again too.
    if (
      status?.phase === "Failed" &&
      view.held?.fingerprint === status.candidateFingerprint &&
      Date.parse(view.held.startedAt) > Date.parse(status.phaseSince)
    ) {
      status = undefined;
    }
    const target = targetOf(view, generationName);
    const now = io.now();
    const intervalMs = intervalMsOf(this.index.rollout);
    const observed = await this.observe(status, now);
    let verdict: { result: "Pass" | "Fail" | "Inconclusive"; message: string } | undefined;
    let samples: Sample[] | undefined;
    if (status && generationCheckDue(status, now, intervalMs)) {
      samples = await this.scrapeRouter();
      const before = this.baseline.of(status.lastCheckTime);
      if (samples && before) verdict = this.verdict(status, before, samples);
    }
    const result = advanceGeneration({
      policy: this.index.rollout,
      status,
      now,
      active: this.file.active,
      target,
      ...(observed ? { observed } : {}),
      ...(verdict ? { verdict } : {}),
      ...this.command(status),
      intervalMs,
      retainPreviousMs: parseDurationMs(this.index.rollout.retainPrevious),
    });
    this.report(result);
    await this.apply(result, view, samples);
  }

  private async observe(
    status: GenerationRolloutStatus | undefined,
    now: number,
  ): Promise<GenerationObservation | undefined> {
    if (!status || status.phase === "Succeeded" || status.phase === "Failed") return undefined;
    const generation = status.candidateGeneration;
    const shards = this.shards.get(generation);
    const obs: { -readonly [K in keyof GenerationObservation]: GenerationObservation[K] } = { generation };
    obs.shardsReady = shards !== undefined;
    const router = this.io.routerUrl();
    if (status.phase === "Building" && router) {
      const stats = (await this.io.getJson(`${router}/v1/stats`)) as
        | { candidate?: { generation?: string } }
        | undefined;
      obs.dualWriting = stats?.candidate?.generation === generation;
    }
    const first = shards?.[0]?.[0];
    if (first && (status.phase === "Backfilling" || status.phase === "Building")) {
      const got = (await this.io.getJson(`${first}/v1/meta/${BACKFILL_META_KEY}`)) as
        | { value?: unknown }
        | undefined;
      const parsed = backfillRecordSchema.safeParse(got?.value);
      if (parsed.success) {
        const r = parsed.data;
        obs.backfill = {
          done: r.done,
          total: r.total,
          withoutText: r.withoutText,
          finished: r.finished,
          ...(r.etaSeconds !== null ? { etaSeconds: Math.round(r.etaSeconds) } : {}),
        };
        this.file.backfill = progressOf(r, now).text;
      }
    }
    if (this.gate?.generation === generation && this.gate.result) obs.gate = this.gate.result;
    return obs;
  }

  private async scrapeRouter(): Promise<Sample[] | undefined> {
    const router = this.io.routerUrl();
    return router ? this.io.scrape(router) : undefined;
  }

  /** The canary's check: queries answered by N+1 (candidate encoder) against those answered by N. */
  private verdict(s: GenerationRolloutStatus, before: Sample[], after: Sample[]) {
    const v = queryVerdict(
      {
        slo: this.index.rollout.slo,
        candidateFingerprint: s.candidateFingerprint,
        activeFingerprint: s.fromFingerprint,
        weight: s.weight,
      },
      before,
      after,
    );
    this.log.info("generation: check", { index: this.index.name, result: v.result, message: v.message });
    return v;
  }

  private command(status: GenerationRolloutStatus | undefined): { command?: RolloutCommand } {
    const text = this.io.readCommand()?.trim();
    if (!text || text === status?.lastCommand) return {};
    const parsed = parseRolloutCommand(text);
    if (!parsed.ok) {
      if (this.badCommand !== text) this.log.warn("generation: command ignored", { error: parsed.error });
      this.badCommand = text;
      return {};
    }
    return { command: parsed.command };
  }

  private report(result: GenerationRolloutResult): void {
    const s = result.status;
    for (const e of result.events) {
      const fields = {
        index: this.index.name,
        generation: s?.candidateGeneration,
        reason: e.reason,
        message: e.message,
      };
      if (e.type === "Warning") this.log.warn("generation: event", fields);
      else this.log.info("generation: event", fields);
      this.io.say(`vi/${this.index.name}  ${e.type} ${e.reason}: ${e.message}`);
    }
  }

  private async apply(
    result: GenerationRolloutResult,
    view: ModelView,
    samples: Sample[] | undefined,
  ): Promise<void> {
    const before = JSON.stringify(this.file);
    const { desired, status } = result;
    const now = this.io.now();
    if (status) this.file.status = status;
    else delete this.file.status;
    this.file.maxFailedChecks = this.index.rollout.maxFailedChecks;
    if (status?.phase === "Succeeded" && this.file.active.generation !== status.candidateGeneration) {
      // Promoted: N+1 is the active generation; N stays (stopped from taking writes) until deleteAfter.
      this.file.active = { generation: status.candidateGeneration, fingerprint: status.candidateFingerprint };
      if (desired.retained)
        this.file.retained = { ref: desired.retained.ref, deleteAfter: desired.retained.deleteAfter };
    }
    const cand = desired.candidate;
    // N+1 while it moves; and the routers' active generation, which after a restart during Promoting
    // is N+1 before the file says so.
    for (const ref of [desired.activeGeneration, cand?.ref]) {
      if (!ref || this.shards.has(ref.generation)) continue;
      this.log.info("generation: starting shards", { index: this.index.name, generation: ref.generation });
      try {
        this.shards.set(ref.generation, await this.io.startShards(ref));
      } catch (err) {
        this.log.error("generation: shards did not start", {
          index: this.index.name,
          generation: ref.generation,
          err,
        });
      }
    }
    this.lastDesired = desired;
    this.writeConfig(desired, view);
    await this.applyBackfill(cand, view, now);
    this.applyGate(cand, view);
    if (cand?.probe) this.probe();
    this.window0(status, samples);
    await this.prune(desired, now);
    if (JSON.stringify(this.file) !== before) {
      this.file.updatedAt = new Date(now).toISOString();
      this.io.save(this.file);
    }
  }

  private writeConfig(desired: GenerationRolloutResult["desired"] | undefined, view = this.io.model()): void {
    const activeRef = desired?.activeGeneration ?? this.file.active;
    const activeShards = this.shards.get(activeRef.generation);
    if (!activeShards) return;
    const cand = desired?.candidate;
    const candShards = cand ? this.shards.get(cand.ref.generation) : undefined;
    const candEncoder = cand ? encoderFor(cand.ref.fingerprint, view) : undefined;
    // N+1 joins the routers once its shards and its encoder run; from then on every write goes to both.
    const inRouters = cand?.inRouters && candShards !== undefined && candEncoder !== undefined;
    const config = generationRouterConfig(
      this.index,
      {
        ref: activeRef,
        shards: activeShards,
        syncing: this.syncing.get(activeRef.generation),
        encoder: encoderFor(activeRef.fingerprint, view) ?? null,
      },
      inRouters && cand && candShards
        ? { ref: cand.ref, shards: candShards, encoder: candEncoder ?? null, queryWeight: cand.queryWeight }
        : undefined,
    );
    const text = JSON.stringify(config);
    if (text === this.lastConfig) return;
    this.io.writeRouterConfig(config);
    this.lastConfig = text;
    this.log.info("generation: router config", {
      index: this.index.name,
      active: activeRef.generation,
      candidate: inRouters ? cand?.ref.generation : null,
      queryWeight: inRouters ? cand?.queryWeight : 0,
    });
  }

  private async applyBackfill(
    cand: GenerationRolloutResult["desired"]["candidate"],
    view: ModelView,
    now: number,
  ): Promise<void> {
    const b = this.backfill;
    if (b && (!cand?.backfill || b.generation !== cand.ref.generation)) {
      if (b.code === undefined) await b.child.stop();
      this.backfill = undefined;
      return;
    }
    if (!cand?.backfill) return;
    if (b && b.code === undefined) return; // running
    // Exit 0 and 3 mean finished: the record says so and the machine moves on. Anything else (a kill,
    // a crash) is started again after a pause; it resumes from its cursor in N+1's first shard.
    if (b && (b.code === 0 || b.code === 3)) return;
    if (b?.endedAt !== undefined && now - b.endedAt < BACKFILL_RESTART_MS) return;
    const from = this.shards.get(this.file.active.generation);
    const to = this.shards.get(cand.ref.generation);
    const encoder = encoderFor(cand.ref.fingerprint, view);
    if (!from || !to || !encoder) return;
    const router = this.io.routerUrl();
    const stableRevision = view.stable?.routing.revision;
    const plan = localBackfillPlan(
      this.index,
      { ref: this.file.active, shards: from },
      { ref: cand.ref, shards: to, encoderUrl: encoder.url },
      router
        ? { metricsUrl: `${router}/metrics`, ...(stableRevision ? { revision: stableRevision } : {}) }
        : undefined,
    );
    const child = this.io.startBackfill(plan, cand.ref.generation);
    const entry: BackfillRun = { generation: cand.ref.generation, child };
    this.backfill = entry;
    this.log.info("generation: backfill started", {
      index: this.index.name,
      generation: cand.ref.generation,
    });
    void child.exited.then((code) => {
      entry.code = code;
      entry.endedAt = this.io.now();
      const fields = { index: this.index.name, generation: entry.generation, code };
      if (code === 0 || code === 3) this.log.info("generation: backfill exited", fields);
      else
        this.log.warn("generation: backfill exited; it is started again and resumes from its cursor", fields);
      this.schedule(0);
    });
  }

  private applyGate(cand: GenerationRolloutResult["desired"]["candidate"], view: ModelView): void {
    if (!cand?.gate) return;
    if (this.gate?.generation === cand.ref.generation) return;
    const to = this.shards.get(cand.ref.generation);
    const from = this.shards.get(this.file.active.generation);
    const encoder = encoderFor(cand.ref.fingerprint, view);
    if (!to || !from || !encoder) return;
    const current = encoderFor(this.file.active.fingerprint, view);
    const entry: GateRun = { generation: cand.ref.generation };
    this.gate = entry;
    this.log.info("generation: recall gate started", {
      index: this.index.name,
      generation: cand.ref.generation,
    });
    void this.io
      .runGate(
        { ref: cand.ref, shards: to, encoderUrl: encoder.url },
        { ref: this.file.active, shards: from, ...(current ? { encoderUrl: current.url } : {}) },
      )
      .catch((err: unknown) => ({
        pass: false,
        message: `the recall gate could not measure: ${(err as Error).message}`,
      }))
      .then((outcome) => {
        entry.result = outcome;
        this.log.info("generation: recall gate", { index: this.index.name, ...outcome });
        this.schedule(0);
      });
  }

  /** A few queries through the router per tick while the machine asks for probes (split by weight). */
  private probe(): void {
    const texts = probeBatch(probeTexts({ configured: this.index.rollout.probe.texts }), 2, this.probeRound);
    this.probeRound += 2;
    for (const t of texts) void this.io.query(t).catch(() => undefined);
  }

  private window0(status: GenerationRolloutStatus | undefined, samples: Sample[] | undefined): void {
    this.baseline.roll(
      status?.phase === "Progressing",
      status?.lastCheckTime,
      samples,
      () => this.scrapeRouter(),
      () => this.file.status?.lastCheckTime,
    );
  }

  /** Stops and deletes what should no longer exist: a failed N+1, a retained N past its time. */
  private async prune(desired: GenerationRolloutResult["desired"], now: number): Promise<void> {
    const keep = new Set([this.file.active.generation, desired.activeGeneration.generation]);
    if (desired.candidate) keep.add(desired.candidate.ref.generation);
    const retained = this.file.retained;
    if (retained && now < retained.deleteAfter) keep.add(retained.ref.generation);
    for (const generation of [...this.shards.keys()]) {
      if (keep.has(generation)) continue;
      this.shards.delete(generation);
      this.syncing.delete(generation);
      this.log.info("generation: stopping and deleting", { index: this.index.name, generation });
      await this.io.stopShards(generation);
      this.io.removeData(generation);
      this.io.say(`vi/${this.index.name}  generation ${generation} stopped and its data deleted`);
    }
    if (retained && now >= retained.deleteAfter) {
      if (
        !this.shards.has(retained.ref.generation) &&
        retained.ref.generation !== this.file.active.generation
      ) {
        this.io.removeData(retained.ref.generation);
      }
      delete this.file.retained;
    }
    // A failed move's data: gone with its processes above; after a restart nothing runs, so delete it here.
    const s = this.file.status;
    if (
      s?.phase === "Failed" &&
      !keep.has(s.candidateGeneration) &&
      !this.shards.has(s.candidateGeneration)
    ) {
      this.io.removeData(s.candidateGeneration);
    }
  }
}

/** Hand-off input for a model's rollout driver from the drivers of the indexes built on it. */
export function indexHandOff(
  drivers: readonly { name: string; driver: GenerationDriver }[],
  held: { fingerprint: string; startedAt: string } | undefined,
): IndexHandOff | undefined {
  if (!held) return undefined;
  let onCandidate = 0;
  let failed: IndexHandOff["failed"];
  for (const { name, driver } of drivers) {
    const h = driver.handOff(held.fingerprint, held.startedAt);
    if (h.onCandidate) onCandidate += 1;
    if (h.failed && !failed) failed = { index: name, message: h.failed };
  }
  return { total: drivers.length, onCandidate, ...(failed ? { failed } : {}) };
}
