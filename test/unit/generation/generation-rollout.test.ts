// Scenario tests of the generation move, advanced tick by tick with simulated time the way a shell
// drives it: shards that become ready, routers that confirm dual-write, a backfill that progresses,
// a recall gate, canary verdicts, commands, and the promotion recorded by the shell.
import { describe, expect, it } from "vitest";
import { RolloutPolicy } from "../../../src/api/v1alpha1/index.js";
import {
  advanceGeneration,
  type GenerationRef,
  type GenerationRolloutInput,
  type GenerationRolloutResult,
  type GenerationRolloutStatus,
  generationCheckDue,
  intervalMsOf,
} from "../../../src/generation/generation-rollout.js";
import type { RolloutCommand } from "../../../src/rollout/command.js";

const N: GenerationRef = { generation: "g-aaaaaaaaaaaa", fingerprint: "a".repeat(64) };
const N1: GenerationRef = { generation: "g-bbbbbbbbbbbb", fingerprint: "b".repeat(64) };
const N2: GenerationRef = { generation: "g-cccccccccccc", fingerprint: "c".repeat(64) };
const T0 = Date.parse("2026-03-04T05:00:00Z");
const policy = (over: Record<string, unknown> = {}) =>
  RolloutPolicy.parse({ analysisIntervalSeconds: 10, stepWeights: [10, 50], ...over });

interface World {
  policy?: RolloutPolicy;
  /** ms after start: N+1's shards ready, routers dual-writing. */
  shardsReadyAt?: number;
  dualWriteAt?: number;
  /** Documents to backfill and the rate. */
  total?: number;
  rate?: number;
  withoutText?: number;
  gate?: { pass: boolean; recall: number; message: string };
  verdicts?: ("Pass" | "Fail" | "Inconclusive")[];
  commands?: { at: number; command: RolloutCommand }[];
  /** The model's target over time (default N1 throughout). */
  targetAt?: (t: number) => GenerationRef | undefined;
  until?: number;
  stop?: (t: Tick) => boolean;
  status?: GenerationRolloutStatus;
  active?: GenerationRef;
}

interface Tick {
  now: number;
  input: GenerationRolloutInput;
  result: GenerationRolloutResult;
}

function simulate(w: World): Tick[] {
  const p = w.policy ?? policy();
  const intervalMs = intervalMsOf({ policy: p });
  const ticks: Tick[] = [];
  const verdicts = [...(w.verdicts ?? [])];
  const pending = [...(w.commands ?? [])];
  let status = w.status;
  let active = w.active ?? N;
  let now = T0;
  let command: RolloutCommand | undefined;
  let backfillStartedAt: number | undefined;
  while (now <= T0 + (w.until ?? 3_600_000) && ticks.length < 2000) {
    const since = now - T0;
    while (pending[0] && pending[0].at <= since) command = pending.shift()?.command;
    const phase = status?.phase;
    if (phase === "Backfilling" && backfillStartedAt === undefined) backfillStartedAt = now;
    const total = w.total ?? 1000;
    const done =
      backfillStartedAt === undefined
        ? 0
        : Math.min(total, Math.floor(((now - backfillStartedAt) / 1000) * (w.rate ?? 50)));
    const input: GenerationRolloutInput = {
      policy: p,
      status,
      now,
      active,
      target: w.targetAt ? w.targetAt(since) : N1,
      // What the shell saw of the candidate it knew before this call.
      ...(status
        ? {
            observed: {
              generation: status.candidateGeneration,
              shardsReady: since >= (w.shardsReadyAt ?? 10_000),
              dualWriting: since >= (w.dualWriteAt ?? 15_000),
              ...(phase === "Backfilling"
                ? { backfill: { done, total, withoutText: w.withoutText ?? 0, finished: done >= total } }
                : {}),
              ...(phase === "Gating"
                ? {
                    gate: w.gate ?? {
                      pass: true,
                      recall: 0.97,
                      message: "recall@10 0.97 >= 0.90 on 50 golden queries",
                    },
                  }
                : {}),
            },
          }
        : {}),
      ...(generationCheckDue(status, now, intervalMs)
        ? { verdict: { result: verdicts.shift() ?? "Pass", message: "all checks passed" } }
        : {}),
      ...(command ? { command } : {}),
    };
    const result = advanceGeneration(input);
    // Idempotent: the same inputs again change nothing and say nothing.
    const again = advanceGeneration({ ...input, status: result.status });
    expect(again.status).toEqual(result.status);
    expect(again.events).toEqual([]);
    invariants(input, result);
    const tick = { now, input, result };
    ticks.push(tick);
    status = result.status;
    if (status?.phase === "Succeeded")
      active = { generation: status.candidateGeneration, fingerprint: status.candidateFingerprint };
    if (w.stop?.(tick)) break;
    now += (result.requeueAfterMs ?? 5_000) + 500;
  }
  return ticks;
}

function invariants(input: GenerationRolloutInput, r: GenerationRolloutResult): void {
  const s = r.status;
  const c = r.desired.candidate;
  // No query reaches N+1 before its gate passed, and no backfill runs before every router dual-writes.
  if (c && c.queryWeight > 0) expect(["Progressing", "Paused"]).toContain(s?.phase);
  if (c?.backfill) expect(input.observed?.dualWriting).toBe(true);
  if (c?.inRouters) expect(input.observed?.shardsReady === true || s?.phase !== "Building").toBe(true);
  // N is never touched before promotion.
  if (s && !["Promoting", "Succeeded"].includes(s.phase))
    expect(r.desired.activeGeneration).toEqual(input.active);
  if (s?.phase === "Failed") expect(c).toBeUndefined();
}

const last = (ticks: Tick[]) => ticks[ticks.length - 1] as Tick;
const phases = (ticks: Tick[]) =>
  ticks
    .map(
      (t) =>
        `${t.result.status?.phase ?? "none"}${t.result.status?.weight ? ` ${t.result.status.weight}%` : ""}`,
    )
    .filter((p, i, all) => i === 0 || all[i - 1] !== p);
const reasons = (ticks: Tick[]) => ticks.flatMap((t) => t.result.events.map((e) => e.reason));
const phaseIs = (phase: string) => (t: Tick) => t.result.status?.phase === phase;
const cmd = (action: RolloutCommand["action"], revision = N1.generation): RolloutCommand => ({
  action,
  revision,
  id: `${action}:${revision}`,
});

describe("a generation move", () => {
  it("when everything is healthy, then it builds, dual-writes, backfills, gates, canaries and promotes, keeping N for retainPrevious", () => {
    const ticks = simulate({ stop: phaseIs("Succeeded") });
    expect(phases(ticks)).toEqual([
      "Building",
      "Backfilling",
      "Gating",
      "Progressing 10%",
      "Progressing 50%",
      "Promoting 100%",
      "Succeeded",
    ]);
    expect(reasons(ticks)).toEqual([
      "GenerationStarted",
      "BackfillStarted",
      "BackfillComplete",
      "CanaryWeight",
      "CanaryWeight",
      "Promoting",
      "Promoted",
    ]);
    const done = last(ticks).result;
    expect(done.desired.activeGeneration).toEqual(N1);
    expect(done.desired.retained?.ref).toEqual(N);
    expect(done.desired.retained?.deleteAfter).toBe(Date.parse(done.status?.phaseSince ?? "") + 3_600_000);
    expect(done.status?.lastRecall).toBe(0.97);
    expect(done.status?.backfill).toEqual({ done: 1000, total: 1000, withoutText: 0 });
  });

  it("when the routers have not confirmed dual-write, then the backfill waits (an early scan would miss their writes)", () => {
    const ticks = simulate({ shardsReadyAt: 5_000, dualWriteAt: 60_000, stop: phaseIs("Backfilling") });
    const started = ticks.find(phaseIs("Backfilling")) as Tick;
    expect(started.now - T0).toBeGreaterThanOrEqual(60_000);
    // N+1 is in the routers (dual-write asked for) as soon as its shards are ready, before that.
    const asked = ticks.find((t) => t.result.desired.candidate?.inRouters) as Tick;
    expect(asked.now - T0).toBeLessThan(60_000);
    expect(asked.now - T0).toBeGreaterThanOrEqual(5_000);
  });

  it("when the backfill runs, then its progress is in status at each tick", () => {
    const ticks = simulate({ total: 600, rate: 20, stop: phaseIs("Gating") });
    const seen = ticks.filter(phaseIs("Backfilling")).map((t) => t.result.status?.backfill?.done ?? -1);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.some((d) => d > 0 && d < 600)).toBe(true);
  });

  it("when N has documents without text, then the move pauses naming how many, and retry resumes the backfill", () => {
    const paused = simulate({ withoutText: 7, stop: phaseIs("Paused") });
    const s = last(paused).result.status;
    expect(s).toMatchObject({ phase: "Paused", reason: "DocumentsWithoutText" });
    expect(s?.message).toMatch(/^7 document\(s\) of g-aaaaaaaaaaaa were ingested as vectors without text/);
    expect(last(paused).result.desired.candidate?.backfill).toBe(false);
    const resumed = advanceGeneration({
      ...last(paused).input,
      status: s,
      now: last(paused).now + 1000,
      command: cmd("retry"),
      observed: { generation: N1.generation },
    });
    expect(resumed.status?.phase).toBe("Backfilling");
    expect(resumed.desired.candidate?.backfill).toBe(true);
  });

  it("when the recall gate fails, then N+1 is rolled back before any query and the message carries the gate's words", () => {
    const ticks = simulate({
      gate: { pass: false, recall: 0.71, message: "recall@10 0.71 < minRecall 0.90 on 50 golden queries" },
      stop: phaseIs("Failed"),
    });
    const r = last(ticks).result;
    expect(r.status).toMatchObject({
      phase: "Failed",
      reason: "RecallGateFailed",
      lastRecall: 0.71,
      weight: 0,
    });
    expect(r.status?.message).toContain("recall@10 0.71 < minRecall 0.90 on 50 golden queries");
    expect(r.desired).toEqual({ activeGeneration: N });
    expect(ticks.every((t) => (t.result.desired.candidate?.queryWeight ?? 0) === 0)).toBe(true);
    expect(r.events).toEqual([expect.objectContaining({ type: "Warning", reason: "RecallGateFailed" })]);
  });

  it("when a canary check fails maxFailedChecks times, then N+1 is rolled back and N serves as before", () => {
    const ticks = simulate({
      policy: policy({ maxFailedChecks: 2 }),
      verdicts: ["Fail", "Fail"],
      stop: phaseIs("Failed"),
    });
    expect(phases(ticks).slice(-2)).toEqual(["Progressing 10%", "Failed"]);
    expect(reasons(ticks)).toContain("AnalysisFailed");
    expect(last(ticks).result.status).toMatchObject({ reason: "RolloutFailed", failedChecks: 2 });
    expect(last(ticks).result.desired).toEqual({ activeGeneration: N });
  });

  it("when checks are inconclusive, then probes start, and after maxInconclusiveChecks the move pauses at its weight", () => {
    const ticks = simulate({
      verdicts: ["Inconclusive", "Inconclusive", "Inconclusive"],
      stop: phaseIs("Paused"),
    });
    expect(ticks.some((t) => t.result.desired.candidate?.probe)).toBe(true);
    const r = last(ticks).result;
    expect(r.status).toMatchObject({ phase: "Paused", reason: "Inconclusive", weight: 10 });
    expect(r.desired.candidate?.queryWeight).toBe(10);
  });

  it("when N+1's shards never become ready, then it fails at the progress deadline", () => {
    const ticks = simulate({
      policy: policy({ progressDeadlineSeconds: 120 }),
      shardsReadyAt: 10 * 3_600_000,
      stop: phaseIs("Failed"),
    });
    const failedAt = (ticks.find(phaseIs("Failed")) as Tick).now - T0;
    expect(failedAt).toBeGreaterThanOrEqual(120_000);
    expect(failedAt).toBeLessThan(130_000);
    expect(last(ticks).result.status?.reason).toBe("ProgressDeadlineExceeded");
    expect(last(ticks).result.status?.message).toMatch(/its shards are not ready/);
  });

  it("when the model's change is reverted mid-backfill, then N+1 is withdrawn", () => {
    const ticks = simulate({ targetAt: (t) => (t < 30_000 ? N1 : N), stop: phaseIs("Failed") });
    expect(last(ticks).result.status).toMatchObject({ phase: "Failed", reason: "Superseded" });
    expect(last(ticks).result.desired).toEqual({ activeGeneration: N });
  });

  it("when the model moves on to a third fingerprint mid-move, then the new target replaces N+1 from the start", () => {
    const ticks = simulate({
      targetAt: (t) => (t < 30_000 ? N1 : N2),
      stop: (t) => t.result.status?.candidateGeneration === N2.generation,
    });
    const r = last(ticks).result;
    expect(r.status).toMatchObject({
      phase: "Building",
      candidateGeneration: N2.generation,
      fromGeneration: N.generation,
    });
    expect(r.events[0]?.message).toContain(`it replaces candidate ${N1.generation}`);
  });

  it("when a person aborts during the canary, then N+1 is rolled back; retry starts it again from Building", () => {
    const ticks = simulate({ commands: [{ at: 0, command: cmd("abort") }], stop: phaseIs("Failed") });
    expect(last(ticks).result.status).toMatchObject({ phase: "Failed", reason: "Aborted" });
    const f = last(ticks);
    const retried = advanceGeneration({
      ...f.input,
      status: f.result.status,
      now: f.now + 1000,
      command: { ...cmd("retry"), id: "retry:x:1" },
    });
    expect(retried.status).toMatchObject({ phase: "Building", failedChecks: 0, weight: 0 });
  });

  it("when a person promotes during the canary, then it promotes at once", () => {
    const ticks = simulate({
      verdicts: ["Inconclusive"],
      stop: (t) => t.result.status?.phase === "Progressing" && (t.result.status?.inconclusiveChecks ?? 0) > 0,
    });
    const t = last(ticks);
    const r = advanceGeneration({
      ...t.input,
      status: t.result.status,
      now: t.now + 1000,
      command: cmd("promote"),
    });
    expect(r.status).toMatchObject({ phase: "Promoting", reason: "PromotedByCommand", weight: 100 });
    expect(r.desired.activeGeneration).toEqual(N1);
    expect(r.desired.retained?.ref).toEqual(N);
  });

  it("when a command names another generation, then it is ignored with a Warning", () => {
    const ticks = simulate({ stop: phaseIs("Backfilling") });
    const t = last(ticks);
    const r = advanceGeneration({
      ...t.input,
      status: t.result.status,
      now: t.now + 1000,
      command: cmd("abort", "g-000000000000"),
    });
    expect(r.status?.phase).toBe("Backfilling");
    expect(r.events).toEqual([expect.objectContaining({ reason: "CommandIgnored" })]);
  });

  it("when the shell restarts mid-canary, then the same status and inputs continue at the same step", () => {
    const ticks = simulate({ stop: (t) => t.result.status?.weight === 50 });
    const t = last(ticks);
    const resumed = simulate({ status: t.result.status, stop: phaseIs("Succeeded") });
    expect(phases(resumed)).toEqual(["Progressing 50%", "Promoting 100%", "Succeeded"]);
  });

  it("when retainPrevious has passed after a promotion, then the shell is woken to delete N and nothing else changes", () => {
    const ticks = simulate({ stop: phaseIs("Succeeded") });
    const t = last(ticks);
    const active = N1;
    const later = advanceGeneration({
      ...t.input,
      active,
      target: N1,
      status: t.result.status,
      now: t.now + 10_000,
    });
    expect(later.requeueAfterMs).toBeGreaterThan(3_500_000);
    const after = advanceGeneration({
      ...t.input,
      active,
      target: N1,
      status: t.result.status,
      now: t.now + 3_700_000,
    });
    expect(after.requeueAfterMs).toBeUndefined();
    expect(after.desired.retained?.deleteAfter).toBeLessThan(t.now + 3_700_000);
    expect(after.events).toEqual([]);
  });

  it("when the model asks for the fingerprint that already serves, then nothing moves", () => {
    const r = advanceGeneration({ policy: policy(), status: undefined, now: T0, active: N, target: N });
    expect(r).toEqual({
      status: undefined,
      desired: { activeGeneration: N },
      events: [],
      requeueAfterMs: undefined,
    });
  });
});
