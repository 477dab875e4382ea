// The rollout of an encoder revision as a phase machine (Flagger's phases, Argo's limits), pure:
// (policy, status, verdict, command, now) → (next status, desired revisions/replicas/weight, events).
// No clock and no I/O: the shell passes `now`, the interval's verdict and the candidate's fingerprint,
// applies `desired`, writes `status` when it changed, records `events`, and calls again after
// `requeueAfterMs` (or on any watch event; a call before the next check changes nothing).
//
//   (none) ──new revision──▶ Initializing ──fingerprint = stable's──▶ Progressing ──last step passes──▶ Promoting ──▶ Succeeded
//                                │  └──fingerprint ≠ stable's──▶ Paused (NewGenerationRequired, weight 0)
//                                ├──no fingerprint within progressDeadlineSeconds──▶ Failed (ProgressDeadlineExceeded)
//                                └──its pods cannot start (image, crash loop, config)──▶ Failed (CandidateCannotStart)
//   Progressing: Pass → next step · Fail → failedChecks+1, at maxFailedChecks → Failed (RolloutFailed)
//                Inconclusive → probe traffic, at maxInconclusiveChecks in a row → Paused (Inconclusive)
//   commands: promote → Promoting · abort → Failed (Aborted) · retry → Failed: Initializing, Paused: Progressing
//
// Everything needed to resume lives in the returned status: after an operator (or serve) restart,
// the same status and the same inputs continue at the same step. The next check is due at
// `lastCheckTime + interval` (computed, not ticked), so a call with an earlier `now` returns the
// status it was given, and a second call with the same inputs returns the same status and no events.
import type { CanaryStatus, RolloutPolicy } from "../api/v1alpha1/index.js";
import type { Verdict } from "./analysis.js";
import type { RolloutCommand } from "./command.js";
import { fingerprintChanged } from "./revision.js";
import { type RolloutCondition, rolloutConditions } from "./rollout-conditions.js";

export type RolloutStatus = CanaryStatus;
export type RolloutPhase = CanaryStatus["phase"];

/** How long a new revision may take to report its fingerprint (Flagger's progressDeadlineSeconds). */
export const DEFAULT_INIT_DEADLINE_MS = 600_000;
/** Poll for the candidate's fingerprint at least this often while Initializing. */
export const INIT_POLL_MS = 10_000;
/** Promoting → Succeeded after this long (capped at the interval): routers pick up 100% first. */
export const PROMOTION_SETTLE_MS = 5_000;

const MESSAGE_MAX = 1024;

export interface RolloutInput {
  readonly policy: Pick<
    RolloutPolicy,
    "analysisIntervalSeconds" | "stepWeights" | "maxFailedChecks" | "maxInconclusiveChecks" | "slo" | "probe"
  > &
    Partial<Pick<RolloutPolicy, "progressDeadlineSeconds">>;
  /** status.canary as stored (undefined: never rolled out). */
  readonly status: RolloutStatus | undefined;
  /**
   * The verdict of the interval that ends now (analysis.ts). Read only when a check is due
   * (`analysisDue`); at a due check without one (no baseline scrape, e.g. after a restart) the
   * window starts again and nothing is counted.
   */
  readonly verdict?: Pick<Verdict, "result" | "message">;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** The revision serving now (status.revision); undefined before the first one ever served. */
  readonly stableRevision: string | undefined;
  /** The revision the spec asks for (revision.ts). */
  readonly candidateRevision: string;
  /** What the stable encoder's /info reported (status.fingerprint). */
  readonly stableFingerprint: string | undefined;
  /**
   * What the candidate revision's own pods report on /info; pass it only once all of them are ready
   * (it doubles as "the candidate can take traffic"). Read while Initializing only.
   */
  readonly candidateFingerprint?: string;
  /**
   * Why the candidate revision cannot start, when the shell sees that it never will without a
   * change: a pod waiting in ImagePullBackOff, CrashLoopBackOff, InvalidImageName or a container
   * config error (pod-start-failure.ts), or a local encoder process that exited at start. Read while
   * Initializing only: the rollout fails at once instead of at the progress deadline.
   */
  readonly candidateStartFailure?: string;
  readonly command?: RolloutCommand;
  /** Pods of a full encoder (spec.runtime.replicas); the candidate runs as many, so promotion needs no scale-up. */
  readonly replicas: number;
  /**
   * Analysis interval; default policy.analysisIntervalSeconds × 1000. Test hook: the CRD keeps a
   * minimum of 10 s, so shells read EMBEDOPS_TEST_MIN_INTERVAL_SECONDS and, when it is set, pass
   * min(analysisIntervalSeconds, that) × 1000 here. Tests and `embedops serve` demos only.
   */
  readonly intervalMs?: number;
  /** Default policy.progressDeadlineSeconds × 1000, else DEFAULT_INIT_DEADLINE_MS. */
  readonly initDeadlineMs?: number;
  /**
   * The indexes built on this model, read while the candidate is held at NewGenerationRequired: each
   * moves to a generation of the candidate's fingerprint (generation-rollout.ts). The model promotes
   * once every one of them serves that generation as its active one, and fails with the first whose
   * move failed.
   */
  readonly indexes?: IndexHandOff;
}

/** How far the indexes built on a model are in their move to its candidate's fingerprint. */
export interface IndexHandOff {
  /** Indexes built on the model. */
  readonly total: number;
  /** Of them, those whose active generation has the candidate's fingerprint. */
  readonly onCandidate: number;
  /** An index whose move to the candidate's generation failed (rolled back or aborted). */
  readonly failed?: { readonly index: string; readonly message: string };
}

/**
 * What should run. Shells scale every encoder revision of the model that is neither
 * `stableRevision` nor `candidateRevision` to zero (or delete it).
 */
export interface DesiredState {
  readonly stableRevision: string;
  readonly stableReplicas: number;
  readonly candidateRevision?: string;
  readonly candidateReplicas: number;
  /** Percent of traffic to the candidate; the stable takes the rest. */
  readonly candidateWeight: number;
  /** Send policy.probe.requests synthetic requests to the candidate over the coming interval. */
  readonly probe: boolean;
  /** Send the same probes to the stable (slo.maxLatencyIncreasePercent needs its p99 too). */
  readonly probeStable: boolean;
}

export interface RolloutEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

export interface RolloutResult {
  /** The next status.canary; write it when it differs from the input. */
  readonly status: RolloutStatus | undefined;
  readonly desired: DesiredState;
  /** For transitions only: empty when nothing changed. */
  readonly events: readonly RolloutEvent[];
  /** Phase changes in this call, in order, e.g. for a `embedops_rollouts_total{result}` metric. */
  readonly transitions: readonly { readonly from: RolloutPhase | undefined; readonly to: RolloutPhase }[];
  /** Progressing / Degraded conditions to merge into the resource's conditions. */
  readonly conditions: readonly RolloutCondition[];
  /** Call again after this long (undefined: only on an event, e.g. a spec change or a command). */
  readonly requeueAfterMs: number | undefined;
}

/** How long a new revision may take to report its fingerprint. */
export function initDeadlineMsOf(input: Pick<RolloutInput, "policy" | "initDeadlineMs">): number {
  if (input.initDeadlineMs !== undefined) return input.initDeadlineMs;
  const seconds = input.policy.progressDeadlineSeconds;
  return seconds !== undefined ? seconds * 1000 : DEFAULT_INIT_DEADLINE_MS;
}

/** RFC 3339 in whole seconds, as Kubernetes writes times. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

const timeOf = (t: string | undefined): number => (t === undefined ? Number.NaN : Date.parse(t));
const clip = (text: string): string =>
  text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 1)}…`;
const isActive = (s: RolloutStatus | undefined): boolean =>
  s !== undefined && s.phase !== "Succeeded" && s.phase !== "Failed";

export function intervalMsOf(input: {
  readonly policy: Pick<RolloutPolicy, "analysisIntervalSeconds">;
  readonly intervalMs?: number | undefined;
}): number {
  const ms = input.intervalMs ?? input.policy.analysisIntervalSeconds * 1000;
  if (!(ms > 0)) throw new RangeError(`the analysis interval must be positive, got ${ms} ms`);
  return ms;
}

/** When the next analysis check of a Progressing rollout is due (ms), else undefined. */
export function nextCheckAt(status: RolloutStatus | undefined, intervalMs: number): number | undefined {
  if (status?.phase !== "Progressing") return undefined;
  const last = timeOf(status.lastCheckTime);
  return Number.isNaN(last) ? undefined : last + intervalMs;
}

/** Whether a call at `now` consumes a verdict: the shell computes one only then. */
export function analysisDue(status: RolloutStatus | undefined, now: number, intervalMs: number): boolean {
  const at = nextCheckAt(status, intervalMs);
  return at !== undefined && now >= at;
}

/** The interval a due verdict must cover: from the last check (or step start) to now. */
export function analysisWindow(
  status: RolloutStatus | undefined,
  now: number,
): { readonly fromMs: number; readonly toMs: number } | undefined {
  const from = timeOf(status?.lastCheckTime);
  return Number.isNaN(from) ? undefined : { fromMs: from, toMs: now };
}

/** One call's working state: the status so far, and what happened on the way. */
class Run {
  readonly events: RolloutEvent[] = [];
  readonly transitions: { from: RolloutPhase | undefined; to: RolloutPhase }[] = [];
  constructor(public status: RolloutStatus | undefined) {}

  set(next: RolloutStatus, event?: RolloutEvent): void {
    const from = this.status?.phase;
    if (from !== next.phase || this.status?.revision !== next.revision) {
      this.transitions.push({ from, to: next.phase });
    }
    this.status = { ...next, ...(next.message !== undefined ? { message: clip(next.message) } : {}) };
    if (event) this.events.push({ ...event, message: clip(event.message) });
  }
}

export function advanceRollout(input: RolloutInput): RolloutResult {
  const intervalMs = intervalMsOf(input);
  const run = new Run(input.status);
  const { candidateRevision: candidate, stableRevision: stable } = input;

  // Nothing serves yet (first revision ever), or what serves never reported a fingerprint: there is
  // nothing to protect or compare with, so the revision replaces it directly.
  const direct =
    stable === undefined ||
    (input.stableFingerprint === undefined && !(run.status?.revision === candidate && isActive(run.status)));
  if (direct || candidate === stable) {
    if (isActive(run.status)) supersede(run, input, candidate === stable);
    return result(input, run, intervalMs, { rollout: false });
  }

  if (run.status === undefined || run.status.revision !== candidate) start(run, input, stable);
  if (input.command && input.command.id !== run.status?.lastCommand) command(run, input, input.command);

  const s = run.status as RolloutStatus;
  if (s.phase === "Initializing") initializing(run, input);
  if (run.status?.phase === "Paused" && run.status.reason === "NewGenerationRequired") handOff(run, input);
  if (run.status?.phase === "Progressing") progressing(run, input, intervalMs);
  if (run.status?.phase === "Promoting") promoting(run, input, intervalMs);
  return result(input, run, intervalMs, { rollout: true });
}

function start(run: Run, input: RolloutInput, stable: string): void {
  const previous = run.status;
  const replaces = isActive(previous) && previous ? `; it replaces candidate ${previous.revision}` : "";
  const message = `revision ${input.candidateRevision} starts beside stable ${stable}${replaces}; waiting for its fingerprint`;
  run.set(
    {
      phase: "Initializing",
      reason: "WaitingForFingerprint",
      message,
      revision: input.candidateRevision,
      stableRevision: stable,
      weight: 0,
      stepIndex: 0,
      failedChecks: 0,
      inconclusiveChecks: 0,
      startedAt: rfc3339(input.now),
      // Carried over, so a command left on the object is not acted on a second time.
      ...(previous?.lastCommand !== undefined ? { lastCommand: previous.lastCommand } : {}),
    },
    { type: "Normal", reason: "RolloutStarted", message },
  );
}

function supersede(run: Run, input: RolloutInput, reverted: boolean): void {
  const s = run.status as RolloutStatus;
  const message = reverted
    ? `the spec went back to the stable revision ${input.stableRevision}; candidate ${s.revision} is withdrawn`
    : `candidate ${s.revision} is withdrawn: no stable fingerprint to compare with, so revision ${input.candidateRevision} replaces the stable directly`;
  run.set(stopped(s, input.now, "Superseded", message), {
    type: "Normal",
    reason: "RolloutSuperseded",
    message,
  });
}

/** A terminal Failed status: no traffic, no probes; the candidate's pods go to zero. */
function stopped(s: RolloutStatus, now: number, reason: string, message: string): RolloutStatus {
  const { probing: _probing, ...rest } = s;
  return { ...rest, phase: "Failed", reason, message, weight: 0, lastCheckTime: rfc3339(now) };
}

function initializing(run: Run, input: RolloutInput): void {
  const s = run.status as RolloutStatus;
  const changed = fingerprintChanged(input.stableFingerprint, input.candidateFingerprint);
  const fingerprint = input.candidateFingerprint;
  if (changed === undefined || fingerprint === undefined) {
    if (input.candidateStartFailure !== undefined) {
      const message = clip(
        `revision ${s.revision} cannot start: ${input.candidateStartFailure}; rolled back before any traffic`,
      );
      run.set(stopped(s, input.now, "CandidateCannotStart", message), {
        type: "Warning",
        reason: "CandidateCannotStart",
        message,
      });
      return;
    }
    const deadline = initDeadlineMsOf(input);
    if (input.now - timeOf(s.startedAt) >= deadline) {
      const message = `revision ${s.revision} reported no fingerprint within ${Math.round(deadline / 1000)} s (are its pods ready? see their events and logs); rolled back before any traffic`;
      run.set(stopped(s, input.now, "ProgressDeadlineExceeded", message), {
        type: "Warning",
        reason: "ProgressDeadlineExceeded",
        message,
      });
    }
    return;
  }
  if (changed) {
    const message =
      `revision ${s.revision} changes the model fingerprint (${short(input.stableFingerprint)} → ${short(fingerprint)}): ` +
      "every index built on it moves to a new generation of that fingerprint; the candidate encoder runs for them at weight 0 while the stable one keeps serving, and is promoted once every index serves the new generation";
    run.set(
      { ...s, phase: "Paused", reason: "NewGenerationRequired", message, fingerprint, weight: 0 },
      { type: "Warning", reason: "NewGenerationRequired", message },
    );
    return;
  }
  const weight = weightAt(input, 0);
  const message = `revision ${s.revision} has the stable fingerprint; ${weight}% of traffic (step 1 of ${input.policy.stepWeights.length})`;
  run.set(
    {
      ...s,
      phase: "Progressing",
      reason: "Analyzing",
      message,
      fingerprint,
      stepIndex: 0,
      weight,
      lastCheckTime: rfc3339(input.now),
    },
    { type: "Normal", reason: "CanaryWeight", message },
  );
}

const short = (fingerprint: string | undefined) => (fingerprint ?? "?").slice(0, 12);

/** The weight of step `i`; a policy edited mid-rollout to fewer steps keeps its last one. */
/**
 * NewGenerationRequired: the indexes carry the move. Promoted once every index built on the model
 * serves a generation of the candidate's fingerprint; failed when one of them rolled back (the
 * stable encoder keeps serving its generation N, which was never touched).
 */
function handOff(run: Run, input: RolloutInput): void {
  const s = run.status as RolloutStatus;
  const ix = input.indexes;
  if (ix === undefined) return;
  if (ix.failed) {
    const message = `index ${ix.failed.index} did not move to the generation of revision ${s.revision}: ${ix.failed.message}; the stable revision ${input.stableRevision} keeps serving`;
    run.set(stopped(s, input.now, "IndexGenerationFailed", message), {
      type: "Warning",
      reason: "IndexGenerationFailed",
      message,
    });
    return;
  }
  if (ix.total > 0 && ix.onCandidate >= ix.total) {
    const message = `every index built on this model (${ix.total}) serves the generation of revision ${s.revision}; it is the stable revision now and ${input.stableRevision} is scaled to 0`;
    run.set(
      {
        ...s,
        phase: "Succeeded",
        reason: "PromotedWithIndexes",
        message,
        weight: 0,
        lastCheckTime: rfc3339(input.now),
      },
      { type: "Normal", reason: "Promoted", message },
    );
  }
}

function weightAt(input: RolloutInput, i: number): number {
  const steps = input.policy.stepWeights;
  return steps[Math.min(i, steps.length - 1)] ?? 0;
}

function progressing(run: Run, input: RolloutInput, intervalMs: number): void {
  const s = run.status as RolloutStatus;
  if (!analysisDue(s, input.now, intervalMs)) return;
  const now = rfc3339(input.now);
  const verdict = input.verdict;
  if (verdict === undefined) {
    run.set({
      ...s,
      lastCheckTime: now,
      message: `no metrics for the interval that ended (first check after a restart?); the check at weight ${s.weight}% starts again`,
    });
    return;
  }
  // The next check is scheduled from when this one was due, not from when the shell got to it, so
  // wake-up delays do not add up over the checks: the rollback bound holds whatever maxFailedChecks.
  // A shell far behind (more than an interval) starts a fresh schedule instead of catching up.
  const due = nextCheckAt(s, intervalMs) as number;
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
        `revision ${s.revision} passed every step`,
      );
      return;
    }
    const weight = weightAt(input, next);
    const message = `revision ${s.revision} passed at weight ${s.weight}%; now ${weight}% (step ${next + 1} of ${policy.stepWeights.length})`;
    run.set(
      {
        ...s,
        reason: s.probing ? "Probing" : "Analyzing",
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
    const next = { ...s, failedChecks, inconclusiveChecks: 0, lastCheckTime: checkedAt, lastVerdict };
    if (failedChecks >= policy.maxFailedChecks) {
      const message = `revision ${s.revision} rolled back after ${failedChecks} failed check(s): ${verdict.message}`;
      run.set(stopped(next, input.now, "RolloutFailed", message), {
        type: "Warning",
        reason: "RolloutFailed",
        message,
      });
      return;
    }
    const message = `check failed (${failedChecks} of ${policy.maxFailedChecks} before rollback): ${verdict.message}`;
    run.set({ ...next, message }, { type: "Warning", reason: "AnalysisFailed", message });
    return;
  }
  const inconclusiveChecks = s.inconclusiveChecks + 1;
  if (inconclusiveChecks >= policy.maxInconclusiveChecks) {
    const { probing: _probing, ...rest } = s;
    const message =
      `analysis inconclusive ${inconclusiveChecks} times in a row (${verdict.message}); paused at weight ${s.weight}%: ` +
      `decide with embedops rollout promote|abort|retry, or give the canary traffic`;
    run.set(
      {
        ...rest,
        phase: "Paused",
        reason: "Inconclusive",
        message,
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
    ? `${verdict.message}; sending ${probes} probe requests per check`
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

function promote(run: Run, s: RolloutStatus, input: RolloutInput, reason: string, why: string): void {
  const { probing: _probing, ...rest } = s;
  const message = `${why}; all traffic moves to it before revision ${input.stableRevision} is scaled to 0`;
  run.set(
    {
      ...rest,
      phase: "Promoting",
      reason,
      message,
      weight: 100,
      inconclusiveChecks: 0,
      lastCheckTime: rfc3339(input.now),
    },
    { type: "Normal", reason: "Promoting", message },
  );
}

function promoting(run: Run, input: RolloutInput, intervalMs: number): void {
  const s = run.status as RolloutStatus;
  const settle = Math.min(PROMOTION_SETTLE_MS, intervalMs);
  if (input.now < timeOf(s.lastCheckTime) + settle) return;
  const message = `revision ${s.revision} is stable; revision ${input.stableRevision} is scaled to 0`;
  run.set(
    { ...s, phase: "Succeeded", reason: "Promoted", message, weight: 0, lastCheckTime: rfc3339(input.now) },
    { type: "Normal", reason: "Promoted", message },
  );
}

function command(run: Run, input: RolloutInput, cmd: RolloutCommand): void {
  const s = { ...(run.status as RolloutStatus), lastCommand: cmd.id };
  const ignore = (why: string) =>
    run.set(s, { type: "Warning", reason: "CommandIgnored", message: `"${cmd.id}" ignored: ${why}` });
  if (cmd.revision !== s.revision) {
    ignore(`it names revision ${cmd.revision}, but the rollout is of revision ${s.revision}`);
    return;
  }
  const by = `by command "${cmd.id}"`;
  switch (cmd.action) {
    case "promote":
      if (s.phase === "Progressing" || (s.phase === "Paused" && s.reason !== "NewGenerationRequired")) {
        promote(
          run,
          s,
          input,
          "PromotedByCommand",
          `revision ${s.revision} promoted ${by} at weight ${s.weight}%`,
        );
      } else if (s.phase === "Initializing")
        ignore("its fingerprint is not known yet; promote once it is Progressing");
      else if (s.phase === "Paused")
        ignore("it changes the fingerprint, so the index could not use its vectors");
      else if (s.phase === "Failed") ignore(`it is ${s.reason ?? "Failed"}; retry it first`);
      else ignore(`it is already ${s.phase}`);
      return;
    case "abort":
      if (isActive(s)) {
        const message = `revision ${s.revision} aborted ${by} at weight ${s.weight}%`;
        run.set(stopped(s, input.now, "Aborted", message), { type: "Warning", reason: "Aborted", message });
      } else ignore(`it is already ${s.phase}`);
      return;
    case "retry":
      if (s.phase === "Failed") {
        const message = `revision ${s.revision} is retried ${by}; waiting for its fingerprint`;
        run.set(
          {
            phase: "Initializing",
            reason: "WaitingForFingerprint",
            message,
            revision: s.revision,
            stableRevision: input.stableRevision ?? s.stableRevision,
            weight: 0,
            stepIndex: 0,
            failedChecks: 0,
            inconclusiveChecks: 0,
            startedAt: rfc3339(input.now),
            lastCommand: cmd.id,
          },
          { type: "Normal", reason: "RolloutRetried", message },
        );
      } else if (s.phase === "Paused" && s.reason !== "NewGenerationRequired") {
        const message = `analysis of revision ${s.revision} resumed ${by} at weight ${s.weight}%`;
        run.set(
          {
            ...s,
            phase: "Progressing",
            reason: "Analyzing",
            message,
            inconclusiveChecks: 0,
            lastCheckTime: rfc3339(input.now),
          },
          { type: "Normal", reason: "RolloutResumed", message },
        );
      } else ignore(`only a Failed or an inconclusive Paused rollout can be retried; it is ${s.phase}`);
      return;
  }
}

function result(
  input: RolloutInput,
  run: Run,
  intervalMs: number,
  { rollout }: { rollout: boolean },
): RolloutResult {
  const s = run.status;
  const n = input.replicas;
  const base = {
    status: s,
    events: run.events,
    transitions: run.transitions,
    conditions: rolloutConditions(s, input.candidateRevision),
  };
  const only = (revision: string): DesiredState => ({
    stableRevision: revision,
    stableReplicas: n,
    candidateReplicas: 0,
    candidateWeight: 0,
    probe: false,
    probeStable: false,
  });
  const stable = input.stableRevision ?? input.candidateRevision;
  if (!rollout || s === undefined) {
    const direct = input.stableRevision === undefined || input.candidateRevision !== input.stableRevision;
    return { ...base, desired: only(direct ? input.candidateRevision : stable), requeueAfterMs: undefined };
  }
  const candidate = (replicas: number, weight: number, probe = false): DesiredState => ({
    stableRevision: stable,
    stableReplicas: n,
    candidateRevision: s.revision,
    candidateReplicas: replicas,
    candidateWeight: weight,
    probe,
    probeStable: probe && input.policy.slo.maxLatencyIncreasePercent !== undefined,
  });
  const last = timeOf(s.lastCheckTime);
  const until = (at: number) => Math.max(0, at - input.now);
  switch (s.phase) {
    case "Initializing": {
      const deadline = timeOf(s.startedAt) + initDeadlineMsOf(input);
      return {
        ...base,
        desired: candidate(n, 0),
        requeueAfterMs: Math.min(INIT_POLL_MS, intervalMs, until(deadline)),
      };
    }
    case "Progressing":
      return {
        ...base,
        desired: candidate(n, s.weight, s.probing === true),
        requeueAfterMs: until(last + intervalMs),
      };
    case "Paused":
      // NewGenerationRequired: the candidate encoder runs (weight 0) for the indexes' backfill,
      // gate and query canary, which reach it directly.
      return s.reason === "NewGenerationRequired"
        ? { ...base, desired: candidate(n, 0), requeueAfterMs: undefined }
        : { ...base, desired: candidate(n, s.weight), requeueAfterMs: undefined };
    case "Promoting":
      return {
        ...base,
        desired: candidate(n, 100),
        requeueAfterMs: until(last + Math.min(PROMOTION_SETTLE_MS, intervalMs)),
      };
    case "Succeeded":
      return { ...base, desired: only(s.revision), requeueAfterMs: undefined };
    case "Failed":
      return { ...base, desired: candidate(0, 0), requeueAfterMs: undefined };
  }
}
