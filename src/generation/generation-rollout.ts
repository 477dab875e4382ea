// The move of a VectorIndex to a new generation (a new model fingerprint) as a phase machine, pure:
// (policy, status, what the shell observed, now) → (next status, what should run, events).
// No clock and no I/O, like src/rollout/state-machine.ts (the encoder canary) whose step, check and
// command rules it follows; the shells (the operator, `embedops serve`) apply `desired`, store
// `status`, record `events` and call again after `requeueAfterMs` or on any change they watch.
//
//   (none) ──model asks for another fingerprint──▶ Building ──shards ready, every router writes to both──▶ Backfilling
//   Building:    N+1's shards start; once they are ready the routers get N+1 as a candidate with
//                queryWeight 0 (dual-write); no confirmation within progressDeadlineSeconds → Failed
//   Backfilling: the backfill re-embeds N's documents into N+1 (throttled, resumable)
//                finished → Gating · finished with documents that have no text → Paused (DocumentsWithoutText)
//   Gating:      recall of N+1 on the golden set (or the probe texts) → Progressing at stepWeights[0], or Failed (RecallGateFailed)
//   Progressing: the queries' canary between (stable encoder + N) and (candidate encoder + N+1), checked
//                every interval like an encoder canary: Pass → next step · Fail ×maxFailedChecks → Failed
//                Inconclusive → probes, ×maxInconclusiveChecks → Paused (Inconclusive)
//   Promoting:   N+1 becomes the active generation in every router (writes go to it alone) → Succeeded
//   Succeeded:   N is kept for retainPrevious, then its shards and volumes go
//   Failed:      N+1 is removed from the routers, its shards and volumes are deleted; N is as it was
//   commands: promote (Progressing/Paused) · abort (any active phase) · retry (Failed → Building, Paused → resume)
//
// The model decides the target: the fingerprint of its candidate revision while the encoder rollout
// holds it for the indexes, else its stable fingerprint. A target that goes away (the model's change
// is reverted or superseded) withdraws the candidate generation. Everything needed to resume lives in
// the returned status: a shell restarted mid-move continues at the same phase; the backfill resumes
// from its own cursor, kept in N+1's shards.

import type { RolloutPolicy } from "../api/v1alpha1/index.js";
import type { RolloutCommand } from "../rollout/command.js";
import { intervalMsOf, rfc3339 } from "../rollout/state-machine.js";

// The encoder canary's own helpers: the same interval rule and the same timestamps in status.
export { intervalMsOf, rfc3339 };

export type GenerationRolloutPhase =
  | "Building"
  | "Backfilling"
  | "Gating"
  | "Progressing"
  | "Paused"
  | "Promoting"
  | "Succeeded"
  | "Failed";

export interface GenerationRef {
  readonly generation: string;
  readonly fingerprint: string;
}

export interface BackfillProgress {
  readonly done: number;
  readonly total: number;
  readonly etaSeconds?: number;
  /** Documents of N stored without text (ingested as vectors): they cannot be re-embedded. */
  readonly withoutText: number;
  /** Every source shard was read to its end and a last pass found nothing new. */
  readonly finished: boolean;
}

export interface GenerationRolloutStatus {
  readonly phase: GenerationRolloutPhase;
  readonly reason?: string;
  readonly message?: string;
  readonly candidateGeneration: string;
  readonly candidateFingerprint: string;
  readonly fromGeneration: string;
  readonly fromFingerprint: string;
  /** Percent of queries on N+1. */
  readonly weight: number;
  readonly stepIndex: number;
  readonly failedChecks: number;
  readonly inconclusiveChecks: number;
  readonly probing?: boolean;
  readonly startedAt: string;
  /** When the current phase (or step) began: the progress deadline and the settle time count from it. */
  readonly phaseSince: string;
  readonly lastCheckTime?: string;
  readonly backfill?: Omit<BackfillProgress, "finished">;
  readonly lastRecall?: number;
  readonly lastVerdict?: { readonly result: "Pass" | "Fail" | "Inconclusive"; readonly message: string };
  readonly lastCommand?: string;
}

export interface GenerationRolloutInput {
  readonly policy: Pick<
    RolloutPolicy,
    "analysisIntervalSeconds" | "stepWeights" | "maxFailedChecks" | "maxInconclusiveChecks" | "probe"
  > &
    Partial<Pick<RolloutPolicy, "progressDeadlineSeconds">>;
  readonly status: GenerationRolloutStatus | undefined;
  readonly now: number;
  /** The generation that serves queries now. */
  readonly active: GenerationRef;
  /** The generation the model asks for; undefined, or the active one's fingerprint: nothing to move. */
  readonly target: GenerationRef | undefined;
  /**
   * What the shell saw of a candidate generation; used only when `generation` is the one in status
   * (so what was seen of a candidate that has just been replaced never moves the new one).
   */
  readonly observed?: GenerationObservation;
  /** The verdict of the interval that ends now, when a check is due (analysis.ts). */
  readonly verdict?: { readonly result: "Pass" | "Fail" | "Inconclusive"; readonly message: string };
  /** A person's command; its `revision` names the candidate generation. */
  readonly command?: RolloutCommand;
  /** Default policy.analysisIntervalSeconds × 1000 (shells may shorten it for tests). */
  readonly intervalMs?: number;
  /** How long the previous generation is kept after a promotion (spec.rollout.retainPrevious). Default 1 h. */
  readonly retainPreviousMs?: number;
}

/** The recall gate's result as both shells report it. */
export interface GateResult {
  readonly pass: boolean;
  readonly recall?: number;
  readonly message: string;
}

export interface GenerationObservation {
  readonly generation: string;
  /** N+1's shards (every replica) are ready. Read while Building. */
  readonly shardsReady?: boolean;
  /** Every router of the index writes to N+1 as well (it reports N+1 as its candidate). Read while Building. */
  readonly dualWriting?: boolean;
  /** The backfill's record (N+1's `backfill` meta). Read while Backfilling. */
  readonly backfill?: BackfillProgress;
  /** The recall gate's result. Read while Gating. */
  readonly gate?: GateResult;
}

/** What should exist and how the routers should be configured. */
export interface GenerationDesired {
  /** The generation the routers serve as active. */
  readonly activeGeneration: GenerationRef;
  /** N+1 while a move runs (its shards run); undefined: N+1 must not exist (delete it). */
  readonly candidate?: {
    readonly ref: GenerationRef;
    /** Put N+1 in the routers' config as the candidate (dual-write), with this share of queries. */
    readonly inRouters: boolean;
    readonly queryWeight: number;
    /** Run the backfill (a Job, or a child process). */
    readonly backfill: boolean;
    /** Run the recall gate now. */
    readonly gate: boolean;
    /** Send probe queries to N+1 over the coming interval. */
    readonly probe: boolean;
  };
  /** After a promotion: the previous generation, kept until `deleteAfter` (ms) for an instant way back. */
  readonly retained?: { readonly ref: GenerationRef; readonly deleteAfter: number };
}

export interface GenerationEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

export interface GenerationRolloutResult {
  readonly status: GenerationRolloutStatus | undefined;
  readonly desired: GenerationDesired;
  readonly events: readonly GenerationEvent[];
  readonly requeueAfterMs: number | undefined;
}

export const DEFAULT_PROGRESS_DEADLINE_MS = 600_000;
export const DEFAULT_RETAIN_PREVIOUS_MS = 3_600_000;
/** Promoting → Succeeded after this long (capped at the interval): routers pick up the new config first. */
export const PROMOTION_SETTLE_MS = 5_000;
/** Poll Building and Backfilling at least this often. */
export const POLL_MS = 5_000;
const MESSAGE_MAX = 1024;

const timeOf = (t: string | undefined): number => (t === undefined ? Number.NaN : Date.parse(t));
const clip = (text: string): string =>
  text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 1)}…`;
const short = (fingerprint: string) => fingerprint.slice(0, 12);
export const isMoving = (s: GenerationRolloutStatus | undefined): boolean =>
  s !== undefined && s.phase !== "Succeeded" && s.phase !== "Failed";

/** Whether a call at `now` consumes a verdict: the shell computes one only then. */
export function generationCheckDue(
  status: GenerationRolloutStatus | undefined,
  now: number,
  intervalMs: number,
): boolean {
  if (status?.phase !== "Progressing") return false;
  const last = timeOf(status.lastCheckTime);
  return !Number.isNaN(last) && now >= last + intervalMs;
}

class Run {
  readonly events: GenerationEvent[] = [];
  constructor(public status: GenerationRolloutStatus | undefined) {}
  set(next: GenerationRolloutStatus, event?: GenerationEvent): void {
    this.status = { ...next, ...(next.message !== undefined ? { message: clip(next.message) } : {}) };
    if (event) this.events.push({ ...event, message: clip(event.message) });
  }
}

/** A phase change: phaseSince moves, the reason and message are the new phase's. */
function enter(
  s: GenerationRolloutStatus,
  now: number,
  phase: GenerationRolloutPhase,
  reason: string,
  message: string,
): GenerationRolloutStatus {
  const { probing: _p, ...rest } = s;
  return { ...rest, phase, reason, message, phaseSince: rfc3339(now) };
}

function fail(run: Run, now: number, reason: string, message: string): void {
  const s = run.status as GenerationRolloutStatus;
  run.set(
    { ...enter(s, now, "Failed", reason, message), weight: 0, lastCheckTime: rfc3339(now) },
    {
      type: "Warning",
      reason,
      message,
    },
  );
}

export function advanceGeneration(input: GenerationRolloutInput): GenerationRolloutResult {
  const intervalMs = intervalMsOf(input);
  const run = new Run(input.status);
  const { target, active } = input;
  const wanted = target !== undefined && target.fingerprint !== active.fingerprint ? target : undefined;

  if (!wanted) {
    if (isMoving(run.status)) {
      const s = run.status as GenerationRolloutStatus;
      fail(
        run,
        input.now,
        "Superseded",
        `the model no longer asks for fingerprint ${short(s.candidateFingerprint)}; generation ${s.candidateGeneration} is withdrawn and ${active.generation} serves as before`,
      );
    }
    return result(input, run, intervalMs);
  }
  if (run.status === undefined || run.status.candidateFingerprint !== wanted.fingerprint) {
    start(run, input, wanted);
  }
  if (input.command && input.command.id !== run.status?.lastCommand) command(run, input, input.command);

  switch (run.status?.phase) {
    case "Building":
      building(run, input);
      break;
    case "Backfilling":
      backfilling(run, input);
      break;
    default:
      break;
  }
  if (run.status?.phase === "Gating") gating(run, input);
  if (run.status?.phase === "Progressing") progressing(run, input, intervalMs);
  if (run.status?.phase === "Promoting") promoting(run, input, intervalMs);
  return result(input, run, intervalMs);
}

function start(run: Run, input: GenerationRolloutInput, wanted: GenerationRef): void {
  const previous = run.status;
  const replaces =
    isMoving(previous) && previous ? `; it replaces candidate ${previous.candidateGeneration}` : "";
  const message =
    `generation ${wanted.generation} (model ${short(wanted.fingerprint)}) starts beside ${input.active.generation} ` +
    `(model ${short(input.active.fingerprint)}); once its shards are ready every write goes to both${replaces}`;
  const now = rfc3339(input.now);
  run.set(
    {
      phase: "Building",
      reason: "ShardsStarting",
      message,
      candidateGeneration: wanted.generation,
      candidateFingerprint: wanted.fingerprint,
      fromGeneration: input.active.generation,
      fromFingerprint: input.active.fingerprint,
      weight: 0,
      stepIndex: 0,
      failedChecks: 0,
      inconclusiveChecks: 0,
      startedAt: now,
      phaseSince: now,
      ...(previous?.lastCommand !== undefined ? { lastCommand: previous.lastCommand } : {}),
    },
    { type: "Normal", reason: "GenerationStarted", message },
  );
}

/** The shell's observation of the candidate in `s`, or nothing. */
function seen(
  input: GenerationRolloutInput,
  s: GenerationRolloutStatus,
): Omit<GenerationObservation, "generation"> {
  return input.observed?.generation === s.candidateGeneration ? input.observed : {};
}

function deadlineMs(input: GenerationRolloutInput): number {
  const s = input.policy.progressDeadlineSeconds;
  return s !== undefined ? s * 1000 : DEFAULT_PROGRESS_DEADLINE_MS;
}

function building(run: Run, input: GenerationRolloutInput): void {
  const s = run.status as GenerationRolloutStatus;
  const o = seen(input, s);
  if (o.shardsReady && o.dualWriting) {
    const message = `every write now goes to ${s.fromGeneration} and ${s.candidateGeneration}; the backfill re-embeds ${s.fromGeneration}'s documents into ${s.candidateGeneration}`;
    run.set(enter(s, input.now, "Backfilling", "Backfilling", message), {
      type: "Normal",
      reason: "BackfillStarted",
      message,
    });
    return;
  }
  const deadline = deadlineMs(input);
  if (input.now - timeOf(s.phaseSince) >= deadline) {
    const what = o.shardsReady
      ? "not every router writes to it yet"
      : "its shards are not ready (see their pods' events and logs)";
    fail(
      run,
      input.now,
      "ProgressDeadlineExceeded",
      `generation ${s.candidateGeneration} was not ready within ${Math.round(deadline / 1000)} s: ${what}; it is removed and ${s.fromGeneration} serves as before`,
    );
  }
}

function backfilling(run: Run, input: GenerationRolloutInput): void {
  const s = run.status as GenerationRolloutStatus;
  const b = seen(input, s).backfill;
  if (!b) return;
  const progress = {
    done: b.done,
    total: b.total,
    withoutText: b.withoutText,
    ...(b.etaSeconds !== undefined ? { etaSeconds: b.etaSeconds } : {}),
  };
  const same = JSON.stringify(progress) === JSON.stringify(s.backfill);
  if (!b.finished) {
    if (!same) run.set({ ...s, backfill: progress });
    return;
  }
  if (b.withoutText > 0) {
    const message =
      `${b.withoutText} document(s) of ${s.fromGeneration} were ingested as vectors without text and cannot be re-embedded by the new model; ` +
      "re-ingest them with text or delete them, then `embedops rollout abort vi/NAME` and `embedops rollout retry em/NAME` (the move starts over with a fresh backfill)";
    run.set(
      { ...enter(s, input.now, "Paused", "DocumentsWithoutText", message), backfill: progress },
      { type: "Warning", reason: "DocumentsWithoutText", message },
    );
    return;
  }
  const message = `backfill of ${s.candidateGeneration} complete (${b.done} documents); checking its recall before any query goes to it`;
  run.set(
    { ...enter(s, input.now, "Gating", "RecallGate", message), backfill: progress },
    { type: "Normal", reason: "BackfillComplete", message },
  );
}

function weightAt(input: GenerationRolloutInput, i: number): number {
  const steps = input.policy.stepWeights;
  return steps[Math.min(i, steps.length - 1)] ?? 0;
}

function gating(run: Run, input: GenerationRolloutInput): void {
  const s = run.status as GenerationRolloutStatus;
  const gate = seen(input, s).gate;
  if (!gate) return;
  const recall = gate.recall !== undefined ? { lastRecall: gate.recall } : {};
  if (!gate.pass) {
    run.set({ ...s, ...recall });
    fail(
      run,
      input.now,
      "RecallGateFailed",
      `generation ${s.candidateGeneration} rolled back before any query: ${gate.message}`,
    );
    return;
  }
  const weight = weightAt(input, 0);
  const message = `${gate.message}; ${weight}% of queries go to ${s.candidateGeneration} (step 1 of ${input.policy.stepWeights.length})`;
  run.set(
    {
      ...enter(s, input.now, "Progressing", "Analyzing", message),
      ...recall,
      weight,
      stepIndex: 0,
      lastCheckTime: rfc3339(input.now),
    },
    { type: "Normal", reason: "CanaryWeight", message },
  );
}

function progressing(run: Run, input: GenerationRolloutInput, intervalMs: number): void {
  const s = run.status as GenerationRolloutStatus;
  if (!generationCheckDue(s, input.now, intervalMs)) return;
  const verdict = input.verdict;
  if (!verdict) {
    run.set({
      ...s,
      lastCheckTime: rfc3339(input.now),
      message: `no metrics for the interval that ended (first check after a restart?); the check at weight ${s.weight}% starts again`,
    });
    return;
  }
  // Scheduled from when the check was due, as the encoder canary does, so delays do not add up.
  const due = timeOf(s.lastCheckTime) + intervalMs;
  const checkedAt = rfc3339(input.now - due < intervalMs ? due : input.now);
  const lastVerdict = { result: verdict.result, message: clip(verdict.message) };
  const { policy } = input;
  if (verdict.result === "Pass") {
    const next = s.stepIndex + 1;
    if (next >= policy.stepWeights.length) {
      promote(
        run,
        { ...s, lastVerdict },
        input,
        "AnalysisPassed",
        `generation ${s.candidateGeneration} passed every step`,
      );
      return;
    }
    const weight = weightAt(input, next);
    const message = `generation ${s.candidateGeneration} passed at weight ${s.weight}%; now ${weight}% (step ${next + 1} of ${policy.stepWeights.length})`;
    run.set(
      {
        ...s,
        message,
        stepIndex: next,
        weight,
        inconclusiveChecks: 0,
        lastCheckTime: checkedAt,
        lastVerdict,
      },
      { type: "Normal", reason: "CanaryWeight", message },
    );
    return;
  }
  if (verdict.result === "Fail") {
    const failedChecks = s.failedChecks + 1;
    run.set({ ...s, failedChecks, inconclusiveChecks: 0, lastCheckTime: checkedAt, lastVerdict });
    if (failedChecks >= policy.maxFailedChecks) {
      fail(
        run,
        input.now,
        "RolloutFailed",
        `generation ${s.candidateGeneration} rolled back after ${failedChecks} failed check(s): ${verdict.message}`,
      );
      return;
    }
    const message = `check failed (${failedChecks} of ${policy.maxFailedChecks} before rollback): ${verdict.message}`;
    run.set(
      { ...(run.status as GenerationRolloutStatus), message },
      { type: "Warning", reason: "AnalysisFailed", message },
    );
    return;
  }
  const inconclusiveChecks = s.inconclusiveChecks + 1;
  if (inconclusiveChecks >= policy.maxInconclusiveChecks) {
    const message =
      `analysis inconclusive ${inconclusiveChecks} times in a row (${verdict.message}); paused at weight ${s.weight}%: ` +
      "decide with embedops rollout promote|abort|retry, or give the index query traffic";
    run.set(
      {
        ...enter(s, input.now, "Paused", "Inconclusive", message),
        inconclusiveChecks,
        lastCheckTime: checkedAt,
        lastVerdict,
      },
      { type: "Warning", reason: "RolloutPaused", message },
    );
    return;
  }
  const probes = policy.probe.requests;
  const startsProbing = !s.probing && probes > 0;
  const message = startsProbing
    ? `${verdict.message}; sending ${probes} probe queries per check`
    : `inconclusive (${inconclusiveChecks} of ${policy.maxInconclusiveChecks} before pausing): ${verdict.message}`;
  run.set(
    {
      ...s,
      reason: probes > 0 ? "Probing" : "Analyzing",
      message,
      inconclusiveChecks,
      ...(probes > 0 ? { probing: true } : {}),
      lastCheckTime: checkedAt,
      lastVerdict,
    },
    startsProbing ? { type: "Normal", reason: "Probing", message } : undefined,
  );
}

function promote(
  run: Run,
  s: GenerationRolloutStatus,
  input: GenerationRolloutInput,
  reason: string,
  why: string,
): void {
  const message = `${why}; it becomes the active generation of every router, ${s.fromGeneration} stops taking writes`;
  run.set(
    {
      ...enter(s, input.now, "Promoting", reason, message),
      weight: 100,
      inconclusiveChecks: 0,
      lastCheckTime: rfc3339(input.now),
    },
    { type: "Normal", reason: "Promoting", message },
  );
}

function promoting(run: Run, input: GenerationRolloutInput, intervalMs: number): void {
  const s = run.status as GenerationRolloutStatus;
  if (input.now < timeOf(s.phaseSince) + Math.min(PROMOTION_SETTLE_MS, intervalMs)) return;
  const message = `generation ${s.candidateGeneration} is active; ${s.fromGeneration} is kept for retainPrevious, then deleted`;
  run.set(
    {
      ...enter(s, input.now, "Succeeded", "Promoted", message),
      weight: 0,
      lastCheckTime: rfc3339(input.now),
    },
    { type: "Normal", reason: "Promoted", message },
  );
}

function command(run: Run, input: GenerationRolloutInput, cmd: RolloutCommand): void {
  const s = { ...(run.status as GenerationRolloutStatus), lastCommand: cmd.id };
  const ignore = (why: string) =>
    run.set(s, { type: "Warning", reason: "CommandIgnored", message: `"${cmd.id}" ignored: ${why}` });
  if (cmd.revision !== s.candidateGeneration && cmd.revision !== short(s.candidateFingerprint)) {
    ignore(`it names ${cmd.revision}, but the rollout is of generation ${s.candidateGeneration}`);
    return;
  }
  const by = `by command "${cmd.id}"`;
  switch (cmd.action) {
    case "promote":
      if (s.phase === "Progressing" || (s.phase === "Paused" && s.reason === "Inconclusive")) {
        promote(
          run,
          s,
          input,
          "PromotedByCommand",
          `generation ${s.candidateGeneration} promoted ${by} at weight ${s.weight}%`,
        );
      } else ignore(`only a generation whose queries are being analysed can be promoted; it is ${s.phase}`);
      return;
    case "abort":
      if (isMoving(s)) {
        run.set(s);
        fail(
          run,
          input.now,
          "Aborted",
          `generation ${s.candidateGeneration} aborted ${by} in phase ${s.phase}`,
        );
      } else ignore(`it is already ${s.phase}`);
      return;
    case "retry":
      if (s.phase === "Failed" && s.reason !== "Superseded") {
        const message = `generation ${s.candidateGeneration} is retried ${by}; its shards start again`;
        const now = rfc3339(input.now);
        run.set(
          {
            ...enter(s, input.now, "Building", "ShardsStarting", message),
            fromGeneration: input.active.generation,
            fromFingerprint: input.active.fingerprint,
            weight: 0,
            stepIndex: 0,
            failedChecks: 0,
            inconclusiveChecks: 0,
            startedAt: now,
          },
          { type: "Normal", reason: "RolloutRetried", message },
        );
      } else if (s.phase === "Paused" && s.reason === "DocumentsWithoutText") {
        const message = `the backfill of ${s.candidateGeneration} is run again ${by}`;
        run.set(enter(s, input.now, "Backfilling", "Backfilling", message), {
          type: "Normal",
          reason: "RolloutResumed",
          message,
        });
      } else if (s.phase === "Paused") {
        const message = `analysis of ${s.candidateGeneration} resumed ${by} at weight ${s.weight}%`;
        run.set(
          {
            ...enter(s, input.now, "Progressing", "Analyzing", message),
            inconclusiveChecks: 0,
            lastCheckTime: rfc3339(input.now),
          },
          { type: "Normal", reason: "RolloutResumed", message },
        );
      } else ignore(`only a Failed or a Paused rollout can be retried; it is ${s.phase}`);
      return;
  }
}

function result(input: GenerationRolloutInput, run: Run, intervalMs: number): GenerationRolloutResult {
  const s = run.status;
  const base = { status: s, events: run.events };
  if (!s || s.phase === "Failed") {
    return { ...base, desired: { activeGeneration: input.active }, requeueAfterMs: undefined };
  }
  const ref = { generation: s.candidateGeneration, fingerprint: s.candidateFingerprint };
  const from = { generation: s.fromGeneration, fingerprint: s.fromFingerprint };
  const retain = input.retainPreviousMs ?? DEFAULT_RETAIN_PREVIOUS_MS;
  const until = (at: number) => Math.max(0, at - input.now);
  if (s.phase === "Succeeded") {
    // The shell records the promotion: from then on `active` is N+1; the previous one is kept for
    // `retain`, then deleted (a call after deleteAfter wakes the shell for that).
    const deleteAfter = timeOf(s.phaseSince) + retain;
    return {
      ...base,
      desired: { activeGeneration: ref, retained: { ref: from, deleteAfter } },
      requeueAfterMs: input.now < deleteAfter ? until(deleteAfter) : undefined,
    };
  }
  const candidate = (over: Partial<NonNullable<GenerationDesired["candidate"]>>) => ({
    ref,
    inRouters: false,
    queryWeight: 0,
    backfill: false,
    gate: false,
    probe: false,
    ...over,
  });
  switch (s.phase) {
    case "Building":
      return {
        ...base,
        desired: {
          activeGeneration: input.active,
          candidate: candidate({ inRouters: seen(input, s).shardsReady === true }),
        },
        requeueAfterMs: Math.min(POLL_MS, until(timeOf(s.phaseSince) + deadlineMs(input))),
      };
    case "Backfilling":
      return {
        ...base,
        desired: {
          activeGeneration: input.active,
          candidate: candidate({ inRouters: true, backfill: true }),
        },
        requeueAfterMs: POLL_MS,
      };
    case "Gating":
      return {
        ...base,
        desired: { activeGeneration: input.active, candidate: candidate({ inRouters: true, gate: true }) },
        requeueAfterMs: POLL_MS,
      };
    case "Progressing":
      return {
        ...base,
        desired: {
          activeGeneration: input.active,
          candidate: candidate({ inRouters: true, queryWeight: s.weight, probe: s.probing === true }),
        },
        requeueAfterMs: until(timeOf(s.lastCheckTime) + intervalMs),
      };
    case "Paused":
      return {
        ...base,
        desired: {
          activeGeneration: input.active,
          candidate: candidate({ inRouters: true, queryWeight: s.weight }),
        },
        requeueAfterMs: undefined,
      };
    case "Promoting": {
      // N+1 is the routers' only generation from now on; N stays, untouched, for a way back.
      const settled = timeOf(s.phaseSince) + Math.min(PROMOTION_SETTLE_MS, intervalMs);
      return {
        ...base,
        desired: { activeGeneration: ref, retained: { ref: from, deleteAfter: settled + retain } },
        requeueAfterMs: until(settled),
      };
    }
  }
}
