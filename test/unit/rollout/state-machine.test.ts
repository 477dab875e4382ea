import { describe, expect, it } from "vitest";
import { CanaryStatus } from "../../../src/api/v1alpha1/index.js";
import {
  advanceRollout,
  type RolloutInput,
  type RolloutStatus,
  rfc3339,
} from "../../../src/rollout/state-machine.js";
import {
  C,
  type Candidate,
  command,
  D,
  events,
  FP,
  failing,
  healthy,
  IMAGE_PULL_BACK_OFF,
  idle,
  last,
  OTHER_FP,
  phases,
  policy,
  REPLICAS,
  reachedAt,
  S,
  simulate,
  slow,
  T0,
  type Tick,
} from "./rollout-sim.js";

const INTERVAL = 60_000;
const phaseOf = (t: Tick) => t.result.status?.phase;
const firstTraffic = (ticks: Tick[]) => reachedAt(ticks, (t) => t.result.desired.candidateWeight > 0);
const until = (phase: string) => (t: Tick) => phaseOf(t) === phase;

describe("when a healthy candidate is rolled out", () => {
  const ticks = simulate({ policy: policy({ stepWeights: [5, 25, 50, 75] }), stop: until("Succeeded") });

  it("then it waits for its fingerprint at weight 0, goes through every step and is promoted", () => {
    expect(phases(ticks)).toEqual([
      "Initializing 0%",
      "Progressing 5%",
      "Progressing 25%",
      "Progressing 50%",
      "Progressing 75%",
      "Promoting 100%",
      "Succeeded 0%",
    ]);
    expect(events(ticks).map((e) => e.reason)).toEqual([
      "RolloutStarted",
      "CanaryWeight",
      "CanaryWeight",
      "CanaryWeight",
      "CanaryWeight",
      "Promoting",
      "Promoted",
    ]);
  });

  it("then the candidate runs a full set of pods from the start, and the old stable goes once it is promoted", () => {
    const initializing = ticks[0]?.result.desired;
    expect(initializing).toEqual({
      stableRevision: S,
      stableReplicas: REPLICAS,
      candidateRevision: C,
      candidateReplicas: REPLICAS,
      candidateWeight: 0,
      probe: false,
      probeStable: false,
    });
    const promoting = ticks.find(until("Promoting"))?.result.desired;
    expect(promoting).toMatchObject({ stableRevision: S, candidateRevision: C, candidateWeight: 100 });
    expect(last(ticks).result.desired).toEqual({
      stableRevision: C,
      stableReplicas: REPLICAS,
      candidateReplicas: 0,
      candidateWeight: 0,
      probe: false,
      probeStable: false,
    });
    expect(last(ticks).result.status).toMatchObject({
      phase: "Succeeded",
      reason: "Promoted",
      failedChecks: 0,
    });
  });

  it("then each step lasts one analysis interval", () => {
    const starts = ticks
      .filter((t) => t.result.events.some((e) => e.reason === "CanaryWeight"))
      .map((t) => t.now);
    const gaps = starts.slice(1).map((t, i) => t - (starts[i] ?? 0));
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(INTERVAL + 1000);
  });

  it("then, once the shell records the promotion, the next call has nothing to roll out", () => {
    const done = last(ticks).result.status;
    const after = advanceRollout({
      policy: policy(),
      status: done,
      now: last(ticks).now + 3_600_000,
      stableRevision: C,
      candidateRevision: C,
      stableFingerprint: FP,
      replicas: REPLICAS,
    });
    expect(after.status).toEqual(done);
    expect(after.events).toEqual([]);
    expect(after.requeueAfterMs).toBeUndefined();
    expect(after.desired).toMatchObject({ stableRevision: C, candidateReplicas: 0, candidateWeight: 0 });
    expect(after.conditions).toEqual([
      { type: "Progressing", status: "False", reason: "RolloutComplete", message: done?.message },
    ]);
  });
});

describe("when a bad candidate takes traffic, then it is rolled back within interval × (maxFailedChecks + 1) + 5 s", () => {
  /** Too little traffic to judge in the first window (a slow ramp), then the same as `bad`. */
  const lateStarter = (bad: Candidate): Candidate => {
    let windows = 0;
    return (w) => (windows++ === 0 ? { requests: 3, errors: 0, p99Ms: 900 } : bad(w));
  };

  it.each([
    { what: "slow", make: () => slow, maxFailedChecks: 1, check: "p99 812 ms > 500 ms at weight 10%" },
    { what: "slow", make: () => slow, maxFailedChecks: 3, check: "p99 812 ms > 500 ms at weight 10%" },
    { what: "failing", make: () => failing, maxFailedChecks: 1, check: "error rate 4.2% > 1% at weight 10%" },
    { what: "failing", make: () => failing, maxFailedChecks: 2, check: "error rate 4.2% > 1% at weight 10%" },
    {
      what: "slow but at first too quiet to judge",
      make: () => lateStarter(slow),
      maxFailedChecks: 1,
      check: "p99 812 ms > 500 ms at weight 10%",
    },
    {
      what: "slow but at first too quiet to judge",
      make: () => lateStarter(slow),
      maxFailedChecks: 3,
      check: "p99 812 ms > 500 ms at weight 10%",
    },
  ])(
    "when it is $what with maxFailedChecks $maxFailedChecks, then the Event says: $check",
    ({ what, make, maxFailedChecks, check }) => {
      const candidate = make();
      // A shell that wakes 4 s late every time still keeps the bound: checks are scheduled from when
      // they were due, so the delays do not add up.
      const ticks = simulate({
        policy: policy({ maxFailedChecks }),
        candidate,
        lateMs: 4000,
        stop: until("Failed"),
      });
      const start = firstTraffic(ticks);
      const failedAt = reachedAt(ticks, until("Failed"));
      expect(start).toBeDefined();
      expect(failedAt).toBeDefined();
      expect((failedAt ?? 0) - (start ?? 0)).toBeLessThanOrEqual(INTERVAL * (maxFailedChecks + 1) + 5000);

      const end = last(ticks).result;
      expect(end.desired).toEqual({
        stableRevision: S,
        stableReplicas: REPLICAS,
        candidateRevision: C,
        candidateReplicas: 0,
        candidateWeight: 0,
        probe: false,
        probeStable: false,
      });
      expect(end.status).toMatchObject({
        phase: "Failed",
        reason: "RolloutFailed",
        weight: 0,
        failedChecks: maxFailedChecks,
      });
      const rollback = end.events.find((e) => e.reason === "RolloutFailed");
      expect(rollback?.type).toBe("Warning");
      expect(rollback?.message).toContain(check);
      expect(end.conditions).toContainEqual({
        type: "Degraded",
        status: "True",
        reason: "RolloutFailed",
        message: end.status?.message,
      });
      expect(end.transitions).toEqual([{ from: "Progressing", to: "Failed" }]);
      if (what.includes("quiet")) expect(events(ticks).map((e) => e.reason)).toContain("Probing");
    },
  );

  it("when every SLO breaks at once, then the rollback Event names each with its value and limit", () => {
    const worst: Candidate = (w) => ({ requests: 500, errors: 21, p99Ms: 812 + w.probes });
    const ticks = simulate({ candidate: worst, stop: until("Failed") });
    const rollback = events(ticks).find((e) => e.reason === "RolloutFailed");
    expect(rollback?.message).toBe(
      `revision ${C} rolled back after 1 failed check(s): error rate 4.2% > 1% at weight 10%; p99 812 ms > 500 ms at weight 10%`,
    );
  });
});

describe("when maxFailedChecks is 2 and a check passes between two failures", () => {
  const ticks = simulate({
    policy: policy({ maxFailedChecks: 2 }),
    verdicts: ["Fail", "Pass", "Fail"],
    stop: until("Failed"),
  });

  it("then failures count over the whole rollout: the pass moves a step, the second failure rolls back", () => {
    expect(phases(ticks)).toEqual(["Initializing 0%", "Progressing 10%", "Progressing 50%", "Failed 0%"]);
    expect(events(ticks).map((e) => `${e.type} ${e.reason}`)).toEqual([
      "Normal RolloutStarted",
      "Normal CanaryWeight",
      "Warning AnalysisFailed",
      "Normal CanaryWeight",
      "Warning RolloutFailed",
    ]);
    expect(events(ticks)[2]?.message).toBe(
      "check failed (1 of 2 before rollback): p99 812 ms > 500 ms at weight 10%",
    );
    expect(last(ticks).result.status?.failedChecks).toBe(2);
  });
});

describe("when the candidate gets no traffic of its own", () => {
  it("then an inconclusive check starts probe traffic, and the probes let the rollout conclude", () => {
    const ticks = simulate({ candidate: idle(true), stop: until("Succeeded") });
    expect(phases(ticks)).toEqual([
      "Initializing 0%",
      "Progressing 10%",
      "Progressing 50%",
      "Promoting 100%",
      "Succeeded 0%",
    ]);
    const probing = events(ticks).find((e) => e.reason === "Probing");
    expect(probing?.message).toBe(
      "only 0 of the 20 requests needed reached the candidate at weight 10%; sending 30 probe requests per check",
    );
    const progressing = ticks.filter((t) => phaseOf(t) === "Progressing");
    expect(progressing[0]?.result.desired.probe).toBe(false);
    expect(progressing.slice(1).every((t) => t.result.desired.probe)).toBe(true);
    // Probing, once started, stays on: the next step concludes in one interval, not two.
    expect(events(ticks).filter((e) => e.reason === "Probing")).toHaveLength(1);
  });

  it("then, when even the probes do not arrive, it pauses after maxInconclusiveChecks checks and stops probing", () => {
    const ticks = simulate({ candidate: idle(false), until: T0 + 3_600_000 });
    expect(phases(ticks)).toEqual(["Initializing 0%", "Progressing 10%", "Paused 10%"]);
    const pausedAt = reachedAt(ticks, until("Paused")) ?? 0;
    expect(pausedAt - (firstTraffic(ticks) ?? 0)).toBeLessThanOrEqual(INTERVAL * 3 + 5000);
    const paused = last(ticks).result;
    expect(paused.status).toMatchObject({ phase: "Paused", reason: "Inconclusive", inconclusiveChecks: 3 });
    expect(paused.desired).toMatchObject({ candidateReplicas: REPLICAS, candidateWeight: 10, probe: false });
    expect(paused.requeueAfterMs).toBeUndefined();
    expect(paused.conditions).toEqual([
      { type: "Progressing", status: "False", reason: "RolloutPaused", message: paused.status?.message },
    ]);
    const warning = events(ticks).find((e) => e.reason === "RolloutPaused");
    expect(warning?.type).toBe("Warning");
    expect(warning?.message).toMatch(/^analysis inconclusive 3 times in a row \(only 0 of the 20 requests/);
  });

  it("then, with probes turned off (probe.requests 0), it pauses without probing", () => {
    const ticks = simulate({
      policy: policy({ probe: { requests: 0 } }),
      candidate: idle(true),
      stop: until("Paused"),
    });
    expect(ticks.every((t) => !t.result.desired.probe)).toBe(true);
    expect(phaseOf(last(ticks))).toBe("Paused");
  });

  it("then, when the stable must be compared with, the stable is probed too", () => {
    const ticks = simulate({
      policy: policy({ slo: { maxLatencyIncreasePercent: 20 } }),
      candidate: idle(false),
      stop: until("Paused"),
    });
    expect(ticks.some((t) => t.result.desired.probe && t.result.desired.probeStable)).toBe(true);
  });
});

describe("when the candidate's fingerprint differs from the stable's", () => {
  const ticks = simulate({ candidateFingerprint: OTHER_FP, until: T0 + 600_000 });
  const held = last(ticks).result;

  it("then it is held at weight 0 with NewGenerationRequired, running for the indexes, and the stable keeps serving", () => {
    expect(phases(ticks)).toEqual(["Initializing 0%", "Paused 0%"]);
    expect(held.status).toMatchObject({
      phase: "Paused",
      reason: "NewGenerationRequired",
      fingerprint: OTHER_FP,
    });
    expect(held.desired).toMatchObject({
      stableRevision: S,
      stableReplicas: REPLICAS,
      candidateRevision: C,
      candidateReplicas: REPLICAS,
      candidateWeight: 0,
    });
    expect(held.conditions).toEqual([
      {
        type: "Progressing",
        status: "False",
        reason: "NewGenerationRequired",
        message: held.status?.message,
      },
    ]);
    expect(held.requeueAfterMs).toBeUndefined();
    const warning = events(ticks).find((e) => e.reason === "NewGenerationRequired");
    expect(warning?.type).toBe("Warning");
    expect(warning?.message).toContain("changes the model fingerprint (abababababab → cdcdcdcdcdcd)");
  });

  it("then no traffic ever moved to it", () => {
    expect(ticks.every((t) => t.result.desired.candidateWeight === 0)).toBe(true);
  });

  it("then promote is refused (the index could not use its vectors) and retry changes nothing", () => {
    for (const action of ["promote", "retry"] as const) {
      const r = advanceRollout({ ...last(ticks).input, status: held.status, command: command(action) });
      expect(r.status).toMatchObject({
        phase: "Paused",
        reason: "NewGenerationRequired",
        lastCommand: `${action}:${C}`,
      });
      expect(r.events).toEqual([expect.objectContaining({ type: "Warning", reason: "CommandIgnored" })]);
    }
  });
});

describe("when the indexes built on the model move to the candidate's generation", () => {
  const held = simulate({ candidateFingerprint: OTHER_FP, until: T0 + 600_000 });
  const at = last(held);
  const later = at.input.now + 1_000;
  const handOff = (indexes: RolloutInput["indexes"]) =>
    advanceRollout({ ...at.input, status: at.result.status, now: later, ...(indexes ? { indexes } : {}) });

  it.each([
    ["no index reported yet", undefined],
    ["no index uses the model", { total: 0, onCandidate: 0 }],
    ["one of two indexes moved", { total: 2, onCandidate: 1 }],
  ])("then it stays held while %s", (_why, indexes) => {
    const r = handOff(indexes);
    expect(r.status).toEqual(at.result.status);
    expect(r.events).toEqual([]);
    expect(r.desired).toMatchObject({
      candidateRevision: C,
      candidateReplicas: REPLICAS,
      candidateWeight: 0,
    });
  });

  it("then it is promoted once every index serves the new generation, and the old revision goes to 0", () => {
    const r = handOff({ total: 2, onCandidate: 2 });
    expect(r.status).toMatchObject({ phase: "Succeeded", reason: "PromotedWithIndexes", revision: C });
    expect(r.desired).toMatchObject({ stableRevision: C, candidateReplicas: 0 });
    expect(r.events.map((e) => e.reason)).toEqual(["Promoted"]);
    expect(r.transitions).toEqual([{ from: "Paused", to: "Succeeded" }]);
  });

  it("then it fails, naming the index and its reason, when an index's move rolled back", () => {
    const r = handOff({
      total: 2,
      onCandidate: 1,
      failed: { index: "docs", message: "RecallGateFailed: recall@10 0.71 < minRecall 0.90" },
    });
    expect(r.status).toMatchObject({ phase: "Failed", reason: "IndexGenerationFailed", weight: 0 });
    expect(r.status?.message).toContain("index docs did not move");
    expect(r.status?.message).toContain("recall@10 0.71");
    expect(r.desired).toMatchObject({ stableRevision: S, candidateReplicas: 0, candidateWeight: 0 });
    expect(r.events).toEqual([expect.objectContaining({ type: "Warning", reason: "IndexGenerationFailed" })]);
  });
});

describe("when the operator restarts mid-rollout", () => {
  const full = simulate({ stop: until("Succeeded") });
  // Stop at step 2, halfway through its interval.
  const cut = full.findIndex((t) => t.result.status?.stepIndex === 1);
  const before = full.slice(0, cut + 1);
  const stored = CanaryStatus.parse(JSON.parse(JSON.stringify(last(before).result.status))) as RolloutStatus;
  const checkDue = Date.parse(stored.lastCheckTime ?? "") + INTERVAL;

  it("then the stored status resumes at the same step: before the check nothing changes", () => {
    const r = advanceRollout({ ...last(before).input, status: stored, now: checkDue - 30_000 });
    expect(r.status).toEqual(stored);
    expect(r.events).toEqual([]);
    expect(r.desired.candidateWeight).toBe(50);
    expect(r.requeueAfterMs).toBe(30_000);
  });

  it("then, at the check, a shell without a baseline scrape starts the window again instead of guessing", () => {
    const input: RolloutInput = { ...last(before).input, status: stored, now: checkDue + 500 };
    const { verdict: _v, command: _c, ...noVerdict } = input;
    const r = advanceRollout(noVerdict);
    expect(r.status).toMatchObject({
      phase: "Progressing",
      stepIndex: 1,
      failedChecks: 0,
      lastCheckTime: rfc3339(checkDue),
    });
    expect(r.events).toEqual([]);
  });

  it("then a shell restarted from the stored status ends where the uninterrupted one did", () => {
    const resumed = simulate({ status: stored, start: last(before).now + 30_000, stop: until("Succeeded") });
    expect(phases([...before, ...resumed])).toEqual(phases(full));
    expect(last(resumed).result.desired).toEqual(last(full).result.desired);
  });
});

describe("when a revision failed", () => {
  const failed = simulate({ candidate: slow, stop: until("Failed") });
  const end = last(failed);

  it("then it is not retried while the spec still asks for it, however long", () => {
    const later = simulate({
      candidate: healthy,
      status: end.result.status,
      start: end.now + 1000,
      until: end.now + 6 * 3_600_000,
    });
    expect(later.every((t) => phaseOf(t) === "Failed" && t.result.events.length === 0)).toBe(true);
    expect(later.every((t) => t.result.desired.candidateReplicas === 0)).toBe(true);
  });

  it("then a new revision in the spec starts a fresh rollout", () => {
    const next = simulate({
      candidateRevision: D,
      status: end.result.status,
      start: end.now + 60_000,
      stop: until("Succeeded"),
    });
    expect(phases(next)).toEqual([
      "Initializing 0%",
      "Progressing 10%",
      "Progressing 50%",
      "Promoting 100%",
      "Succeeded 0%",
    ]);
    expect(next[0]?.result.status).toMatchObject({ revision: D, failedChecks: 0, stableRevision: S });
    expect(next[0]?.result.transitions).toEqual([{ from: "Failed", to: "Initializing" }]);
    expect(next[0]?.result.conditions).toEqual([
      expect.objectContaining({ type: "Progressing", status: "True" }),
    ]);
  });

  it("then `retry` starts the same revision again from the beginning", () => {
    const retried = simulate({
      candidate: healthy,
      status: end.result.status,
      start: end.now + 60_000,
      commands: [{ at: end.now + 60_000, command: command("retry") }],
      stop: until("Succeeded"),
    });
    expect(phases(retried)).toEqual([
      "Initializing 0%",
      "Progressing 10%",
      "Progressing 50%",
      "Promoting 100%",
      "Succeeded 0%",
    ]);
    expect(retried[0]?.result.events).toEqual([
      expect.objectContaining({ type: "Normal", reason: "RolloutRetried" }),
    ]);
    // The annotation stays on the object: acted on once, not again on every reconcile.
    expect(events(retried).filter((e) => e.reason === "RolloutRetried")).toHaveLength(1);
  });
});

describe("commands", () => {
  const progressing = simulate({ stop: until("Progressing") });
  const at = last(progressing);
  const give = (cmd: ReturnType<typeof command>, from = at) => {
    const { candidateFingerprint: _fp, ...input } = from.input;
    return advanceRollout({ ...input, status: from.result.status, now: from.now + 1000, command: cmd });
  };

  it("when promote is given while Progressing, then every remaining step is skipped", () => {
    const ticks = simulate({
      commands: [{ at: T0, command: command("promote") }],
      status: at.result.status,
      start: at.now + 1000,
      stop: until("Succeeded"),
    });
    expect(phases(ticks)).toEqual(["Promoting 100%", "Succeeded 0%"]);
    expect(ticks[0]?.result.status).toMatchObject({
      reason: "PromotedByCommand",
      lastCommand: `promote:${C}`,
    });
  });

  it("when abort is given, then the candidate is rolled back at once and the rollout is Degraded (Aborted)", () => {
    const r = give(command("abort"));
    expect(r.status).toMatchObject({ phase: "Failed", reason: "Aborted", weight: 0 });
    expect(r.desired).toMatchObject({ stableRevision: S, candidateReplicas: 0, candidateWeight: 0 });
    expect(r.events).toEqual([
      {
        type: "Warning",
        reason: "Aborted",
        message: `revision ${C} aborted by command "abort:${C}" at weight 10%`,
      },
    ]);
    expect(r.conditions).toContainEqual(
      expect.objectContaining({ type: "Degraded", status: "True", reason: "Aborted" }),
    );
  });

  it("when retry is given to a rollout paused as inconclusive, then analysis resumes at the same step", () => {
    const paused = simulate({ candidate: idle(false), stop: until("Paused") });
    const r = give(command("retry"), last(paused));
    expect(r.status).toMatchObject({ phase: "Progressing", weight: 10, inconclusiveChecks: 0 });
    expect(r.events.map((e) => e.reason)).toEqual(["RolloutResumed"]);
  });

  it("when promote is given to a paused (inconclusive) rollout, then a person's judgement promotes it", () => {
    const paused = simulate({ candidate: idle(false), stop: until("Paused") });
    expect(give(command("promote"), last(paused)).status?.phase).toBe("Promoting");
  });

  it("when a command names another revision, then it is ignored with a Warning, once", () => {
    const r = give(command("abort", D));
    expect(r.status).toMatchObject({ phase: "Progressing", lastCommand: `abort:${D}` });
    expect(r.events).toEqual([
      {
        type: "Warning",
        reason: "CommandIgnored",
        message: `"abort:${D}" ignored: it names revision ${D}, but the rollout is of revision ${C}`,
      },
    ]);
    const again = advanceRollout({
      ...at.input,
      status: r.status,
      now: at.now + 2000,
      command: command("abort", D),
    });
    expect(again.events).toEqual([]);
  });

  it("when promote is given before the fingerprint is known, then it is refused", () => {
    const init = simulate({ readyAfterMs: 3_600_000, stop: () => true });
    const r = give(command("promote"), last(init));
    expect(r.status?.phase).toBe("Initializing");
    expect(r.events[0]?.message).toContain("its fingerprint is not known yet");
  });

  it("when the same command is given again with a new nonce, then it acts again", () => {
    const failed = last(simulate({ candidate: slow, stop: until("Failed") }));
    const first = give(command("retry", C, "1"), failed);
    const aborted = advanceRollout({
      ...failed.input,
      status: first.status,
      now: failed.now + 2000,
      command: command("abort", C, "2"),
    });
    const second = advanceRollout({
      ...failed.input,
      status: aborted.status,
      now: failed.now + 3000,
      command: command("retry", C, "3"),
    });
    expect([first, aborted, second].map((r) => r.status?.phase)).toEqual([
      "Initializing",
      "Failed",
      "Initializing",
    ]);
  });
});

describe("a call before the next check", () => {
  const ticks = simulate({
    policy: policy({ maxFailedChecks: 2 }),
    verdicts: ["Fail"],
    stop: until("Succeeded"),
  });

  it.each(["Initializing", "Progressing", "Promoting"])(
    "when the rollout is %s, then it changes nothing",
    (phase) => {
      const t = ticks.find(until(phase)) as Tick;
      const wait = t.result.requeueAfterMs ?? 0;
      expect(wait).toBeGreaterThan(0);
      for (const now of [t.now, t.now + wait / 2, t.now + wait - 1]) {
        // Even with a verdict at hand (the shell computed one early), nothing is consumed.
        const r = advanceRollout({
          ...t.input,
          status: t.result.status,
          now,
          verdict: { result: "Fail", message: "x" },
          candidateFingerprint: undefined,
        });
        expect(r.status).toEqual(t.result.status);
        expect(r.events).toEqual([]);
      }
    },
  );
});

describe("edges", () => {
  const base: RolloutInput = {
    policy: policy(),
    status: undefined,
    now: T0,
    stableRevision: S,
    candidateRevision: C,
    stableFingerprint: FP,
    replicas: REPLICAS,
  };

  it("when the spec asks for the stable revision and nothing rolls out, then there is nothing to do", () => {
    const r = advanceRollout({ ...base, candidateRevision: S });
    expect(r).toMatchObject({ status: undefined, events: [], conditions: [], requeueAfterMs: undefined });
    expect(r.desired).toEqual({
      stableRevision: S,
      stableReplicas: REPLICAS,
      candidateReplicas: 0,
      candidateWeight: 0,
      probe: false,
      probeStable: false,
    });
  });

  it("when no revision has served yet, then the first one is deployed directly, without a canary", () => {
    const r = advanceRollout({ ...base, stableRevision: undefined, stableFingerprint: undefined });
    expect(r.status).toBeUndefined();
    expect(r.desired).toMatchObject({ stableRevision: C, candidateReplicas: 0 });
  });

  it("when the stable never reported a fingerprint, then the new revision replaces it directly (nothing to protect)", () => {
    const r = advanceRollout({ ...base, stableFingerprint: undefined });
    expect(r.status).toBeUndefined();
    expect(r.desired.stableRevision).toBe(C);
  });

  it("when the spec goes back to the stable revision mid-rollout, then the candidate is withdrawn, not Degraded", () => {
    const mid = last(simulate({ stop: until("Progressing") }));
    const r = advanceRollout({
      ...mid.input,
      status: mid.result.status,
      now: mid.now + 1000,
      candidateRevision: S,
    });
    expect(r.status).toMatchObject({ phase: "Failed", reason: "Superseded", revision: C, weight: 0 });
    expect(r.desired).toMatchObject({ stableRevision: S, candidateReplicas: 0 });
    expect(r.desired.candidateRevision).toBeUndefined();
    expect(r.conditions).toEqual([]);
    expect(r.events.map((e) => `${e.type} ${e.reason}`)).toEqual(["Normal RolloutSuperseded"]);
  });

  it("when a newer revision arrives mid-rollout, then it replaces the candidate and starts from the beginning", () => {
    const mid = last(simulate({ stop: (t) => t.result.status?.stepIndex === 1 }));
    const r = advanceRollout({
      ...mid.input,
      status: mid.result.status,
      now: mid.now + 1000,
      candidateRevision: D,
    });
    expect(r.status).toMatchObject({ phase: "Initializing", revision: D, stepIndex: 0, weight: 0 });
    expect(r.desired).toMatchObject({ candidateRevision: D, candidateWeight: 0 });
    expect(r.events[0]?.message).toContain(`it replaces candidate ${C}`);
  });

  it("when the candidate's pods never report a fingerprint, then the rollout fails at the deadline without traffic", () => {
    const ticks = simulate({ readyAfterMs: 10 * 3_600_000, stop: until("Failed") });
    const failedAt = reachedAt(ticks, until("Failed")) ?? 0;
    expect(failedAt - T0).toBeGreaterThanOrEqual(600_000);
    expect(failedAt - T0).toBeLessThan(600_000 + 15_000);
    expect(last(ticks).result.status).toMatchObject({ phase: "Failed", reason: "ProgressDeadlineExceeded" });
    expect(ticks.every((t) => t.result.desired.candidateWeight === 0)).toBe(true);
  });

  it("when progressDeadlineSeconds is set, then a candidate that never reports fails at that deadline", () => {
    const ticks = simulate({
      policy: policy({ progressDeadlineSeconds: 90 }),
      readyAfterMs: 10 * 3_600_000,
      stop: until("Failed"),
    });
    const failedAt = reachedAt(ticks, until("Failed")) ?? 0;
    expect(failedAt - T0).toBeGreaterThanOrEqual(90_000);
    expect(failedAt - T0).toBeLessThan(90_000 + 15_000);
    expect(last(ticks).result.status?.message).toContain("within 90 s");
  });

  it("when the candidate's pods cannot start, then it fails at once with the pod's reason, before any traffic", () => {
    const ticks = simulate({
      readyAfterMs: 10 * 3_600_000,
      startFailureAfterMs: 25_000,
      stop: until("Failed"),
    });
    const failedAt = reachedAt(ticks, until("Failed")) ?? 0;
    // Seen at the first poll after the failure (Initializing polls every INIT_POLL_MS, 10 s).
    expect(failedAt - T0).toBeGreaterThanOrEqual(25_000);
    expect(failedAt - T0).toBeLessThan(25_000 + 12_000);
    const failed = last(ticks).result;
    expect(failed.status).toMatchObject({ phase: "Failed", reason: "CandidateCannotStart", weight: 0 });
    expect(failed.status?.message).toContain(`revision ${C} cannot start: ${IMAGE_PULL_BACK_OFF}`);
    expect(failed.events).toEqual([
      { type: "Warning", reason: "CandidateCannotStart", message: failed.status?.message },
    ]);
    expect(failed.conditions).toContainEqual(
      expect.objectContaining({ type: "Degraded", status: "True", reason: "CandidateCannotStart" }),
    );
    expect(failed.desired).toMatchObject({ stableRevision: S, candidateReplicas: 0, candidateWeight: 0 });
    expect(ticks.every((t) => t.result.desired.candidateWeight === 0)).toBe(true);
  });

  it("when the pods are ready and report a fingerprint, then a start failure reported with it is ignored", () => {
    const start = last(simulate({ stop: () => true }));
    expect(start.result.status?.phase).toBe("Initializing");
    const r = advanceRollout({
      ...start.input,
      status: start.result.status,
      now: start.now + 10_000,
      candidateFingerprint: FP,
      candidateStartFailure: IMAGE_PULL_BACK_OFF,
    });
    expect(r.status?.phase).toBe("Progressing");
  });

  it("when a shell shortens the interval (EMBEDOPS_TEST_MIN_INTERVAL_SECONDS), then checks follow it", () => {
    const ticks = simulate({ intervalMs: 2000, lateMs: 10, readyAfterMs: 0, stop: until("Succeeded") });
    expect(last(ticks).now - T0).toBeLessThan(15_000);
  });

  it("when the interval is not positive, then it throws", () => {
    expect(() => advanceRollout({ ...base, intervalMs: 0 })).toThrow(RangeError);
  });

  it("when the step weights are shortened mid-rollout, then the last step passes to promotion", () => {
    const mid = last(
      simulate({
        policy: policy({ stepWeights: [10, 20, 30] }),
        stop: (t) => t.result.status?.stepIndex === 2,
      }),
    );
    const due = Date.parse(mid.result.status?.lastCheckTime ?? "") + INTERVAL;
    const r = advanceRollout({
      ...mid.input,
      policy: policy({ stepWeights: [10] }),
      status: mid.result.status,
      now: due,
      verdict: { result: "Pass", message: "ok" },
    });
    expect(r.status?.phase).toBe("Promoting");
  });
});
