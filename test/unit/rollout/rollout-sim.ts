// A simulated shell for the rollout scenario tests: it drives advanceRollout the way the operator or
// `embedops serve` will (wake up after requeueAfterMs, a little late; compute a verdict only when a
// check is due; feed the returned status back), with simulated time and a simulated candidate.
// After every call it checks two invariants: the status would pass the CRD schema, and a second
// call with the same inputs changes nothing and emits nothing (idempotence).
import { expect } from "vitest";
import { CanaryStatus, RolloutPolicy } from "../../../src/api/v1alpha1/index.js";
import { analyze, type MetricWindow, type Verdict } from "../../../src/rollout/analysis.js";
import type { RolloutCommand } from "../../../src/rollout/command.js";
import {
  advanceRollout,
  analysisDue,
  analysisWindow,
  intervalMsOf,
  type RolloutInput,
  type RolloutResult,
  type RolloutStatus,
} from "../../../src/rollout/state-machine.js";

export const S = "0badc0ffee";
export const C = "5f3a9c0d12";
export const D = "d00dfeed42";
export const FP = "ab".repeat(32);
export const OTHER_FP = "cd".repeat(32);
export const T0 = Date.parse("2026-01-02T03:00:00Z");
export const REPLICAS = 2;
export const IMAGE_PULL_BACK_OFF =
  'pod minilm-encoder-5f3a9c0d12-7d9f-x2x container encoder: ImagePullBackOff (Back-off pulling image "embedops:nope")';

export const policy = (over: Record<string, unknown> = {}): RolloutPolicy => RolloutPolicy.parse(over);

/** What the candidate serves in a window, given its weight, the window length and whether it is probed. */
export type Candidate = (w: { weight: number; seconds: number; probes: number }) => MetricWindow;

/** 20 requests/s in total, split by weight; probes add to the candidate's count. */
export const TOTAL_RPS = 20;
const served = (w: { weight: number; seconds: number; probes: number }, rps = TOTAL_RPS) =>
  Math.round((rps * w.weight * w.seconds) / 100) + w.probes;

export const healthy: Candidate = (w) => ({ requests: served(w), errors: 0, p99Ms: 120 });
export const slow: Candidate = (w) => ({ requests: served(w), errors: 0, p99Ms: 812 });
export const failing: Candidate = (w) => {
  const requests = served(w);
  return { requests, errors: requests * 0.042, p99Ms: 120 };
};
/** A service with no traffic of its own; probes reach it (or not, with `probesArrive: false`). */
export const idle =
  (probesArrive = true): Candidate =>
  (w) =>
    probesArrive && w.probes > 0 ? { requests: w.probes, errors: 0, p99Ms: 90 } : { requests: 0, errors: 0 };

export interface Tick {
  readonly now: number;
  readonly input: RolloutInput;
  readonly result: RolloutResult;
}

export interface SimOptions {
  readonly policy?: RolloutPolicy;
  readonly candidate?: Candidate;
  /** Verdicts in order, instead of analysing `candidate` (for scripted scenarios). */
  readonly verdicts?: Verdict["result"][];
  readonly status?: RolloutStatus;
  readonly start?: number;
  /** Simulated time to stop at. */
  readonly until?: number;
  /** Stop once this returns true. */
  readonly stop?: (tick: Tick) => boolean;
  /** How late the shell wakes after requeueAfterMs (queueing, a busy operator). */
  readonly lateMs?: number;
  /** The candidate's pods are ready and report a fingerprint this long after the rollout starts. */
  readonly readyAfterMs?: number;
  /** The candidate's pods are seen unable to start (e.g. ImagePullBackOff) this long after it starts. */
  readonly startFailureAfterMs?: number;
  readonly candidateFingerprint?: string;
  readonly candidateRevision?: string;
  readonly stableRevision?: string;
  readonly intervalMs?: number;
  /** Commands the person gives, by simulated time. */
  readonly commands?: readonly { readonly at: number; readonly command: RolloutCommand }[];
}

const scripted = (result: Verdict["result"]): Verdict => ({
  result,
  checks: [],
  message:
    result === "Fail"
      ? "p99 812 ms > 500 ms at weight 10%"
      : result === "Pass"
        ? "all checks passed"
        : "only 0 of the 20 requests needed reached the candidate",
});

/** Runs the shell loop; returns every call in order. */
export function simulate(o: SimOptions): Tick[] {
  const p = o.policy ?? policy();
  const candidate = o.candidate ?? healthy;
  const verdicts = [...(o.verdicts ?? [])];
  const start = o.start ?? T0;
  const until = o.until ?? start + 3_600_000;
  const late = o.lateMs ?? 1000;
  const fingerprint = o.candidateFingerprint ?? FP;
  const intervalMs = intervalMsOf({ policy: p, ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}) });
  const pending = [...(o.commands ?? [])];
  const ticks: Tick[] = [];
  let status = o.status;
  let stable = o.stableRevision ?? S;
  let now = start;
  let command: RolloutCommand | undefined;

  while (now <= until && ticks.length < 1000) {
    // The candidate's pods report a fingerprint once they are up, some time after its rollout
    // started (they are scaled up by the Initializing phase, down again once Failed).
    const ready =
      status?.phase === "Initializing" &&
      status.revision === (o.candidateRevision ?? C) &&
      now - Date.parse(status.startedAt) >= (o.readyAfterMs ?? 20_000);
    const cannotStart =
      o.startFailureAfterMs !== undefined &&
      status?.phase === "Initializing" &&
      !ready &&
      now - Date.parse(status.startedAt) >= o.startFailureAfterMs;
    while (pending[0] && pending[0].at <= now) command = pending.shift()?.command;
    let verdict: Verdict | undefined;
    if (analysisDue(status, now, intervalMs) && status) {
      const window = analysisWindow(status, now);
      const seconds = window ? (window.toMs - window.fromMs) / 1000 : 0;
      const probes = status.probing ? p.probe.requests : 0;
      const next = verdicts.shift();
      verdict =
        next !== undefined
          ? scripted(next)
          : analyze({
              slo: p.slo,
              candidate: candidate({ weight: status.weight, seconds, probes }),
              weight: status.weight,
            });
    }
    const input: RolloutInput = {
      policy: p,
      status,
      now,
      stableRevision: stable,
      candidateRevision: o.candidateRevision ?? C,
      stableFingerprint: FP,
      ...(ready ? { candidateFingerprint: fingerprint } : {}),
      ...(cannotStart ? { candidateStartFailure: IMAGE_PULL_BACK_OFF } : {}),
      ...(verdict ? { verdict } : {}),
      ...(command ? { command } : {}),
      replicas: REPLICAS,
      ...(o.intervalMs ? { intervalMs: o.intervalMs } : {}),
    };
    const result = advanceRollout(input);
    checkInvariants(input, result);
    const tick = { now, input, result };
    ticks.push(tick);
    status = result.status;
    // The shell records a promotion: the promoted revision is the stable one from now on.
    if (result.status?.phase === "Succeeded") stable = result.desired.stableRevision;
    if (o.stop?.(tick)) break;
    // The shell also wakes on watch events; without a timer, poll like a resync would, in 10 s.
    now += (result.requeueAfterMs ?? 10_000) + late;
  }
  return ticks;
}

function checkInvariants(input: RolloutInput, result: RolloutResult): void {
  if (result.status) {
    expect(CanaryStatus.safeParse(JSON.parse(JSON.stringify(result.status))).error).toBeUndefined();
  }
  const again = advanceRollout({ ...input, status: result.status });
  expect(again.status).toEqual(result.status);
  expect(again.events).toEqual([]);
  expect(again.desired).toEqual(result.desired);
  // The stable revision is never touched while a rollout runs.
  if (result.status?.phase !== "Succeeded" && input.stableRevision !== undefined) {
    expect(result.desired).toMatchObject({ stableRevision: input.stableRevision, stableReplicas: REPLICAS });
  }
}

export const last = (ticks: readonly Tick[]): Tick => {
  const t = ticks[ticks.length - 1];
  if (!t) throw new Error("no ticks");
  return t;
};

/** The phases the rollout went through, with the weight, deduplicated. */
export const phases = (ticks: readonly Tick[]): string[] =>
  ticks
    .map((t) => (t.result.status ? `${t.result.status.phase} ${t.result.status.weight}%` : "none"))
    .filter((p, i, all) => i === 0 || all[i - 1] !== p);

export const events = (ticks: readonly Tick[]) => ticks.flatMap((t) => t.result.events);

export const reachedAt = (ticks: readonly Tick[], when: (t: Tick) => boolean): number | undefined =>
  ticks.find(when)?.now;

export const command = (action: RolloutCommand["action"], revision = C, nonce?: string): RolloutCommand => ({
  action,
  revision,
  id: nonce ? `${action}:${revision}:${nonce}` : `${action}:${revision}`,
});
