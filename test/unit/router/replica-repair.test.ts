import { describe, expect, it } from "vitest";
import {
  afterPoll,
  afterStart,
  chooseSource,
  covers,
  type LaggingState,
  nextRepairStep,
  type PeerView,
  type RepairState,
  recordMiss,
  repairBackoffMs,
  type SyncView,
} from "../../../src/router/replica-repair.js";

const A = "http://a:1";
const B = "http://b:1";
const C = "http://c:1";

const peer = (url: string, over: Partial<PeerView> = {}): PeerView => ({
  url,
  live: true,
  syncing: false,
  lagging: false,
  catchingUp: false,
  ...over,
});

const lag = (marks: [string, number][], misses = 1, repair?: RepairState): LaggingState => ({
  since: 0,
  misses,
  marks: new Map(marks),
  repair: repair ?? { phase: "waiting", attempts: 0, retryAt: 0, reason: "missed a write" },
});

// As shard-client.ts parses it: every key present, `error` undefined unless the catch-up failed.
const running = (from: string, afterSeq: number, joinedAtSeq = 50): SyncView => ({
  phase: "running",
  from,
  afterSeq,
  joinedAtSeq,
  upserted: 0,
  deleted: 0,
  skipped: 0,
  error: undefined,
});

const catchingUp = (
  from: string,
  afterSeq: number,
  over: Partial<Extract<RepairState, { phase: "catching-up" }>> = {},
): RepairState => ({
  phase: "catching-up",
  from,
  afterSeq,
  joinedAtSeq: 50,
  missesAtStart: 1,
  covers: true,
  own: true,
  attempts: 0,
  ...over,
});

describe("recordMiss", () => {
  it("when a replica misses its first write, then it is lagging with a mark per committed peer", () => {
    const s = recordMiss(
      undefined,
      1000,
      new Map([
        [A, 10],
        [C, 4],
      ]),
    );
    expect(s).toMatchObject({ since: 1000, misses: 1, repair: { phase: "waiting", retryAt: 0 } });
    expect([...s.marks]).toEqual([
      [A, 10],
      [C, 4],
    ]);
  });

  it.each([
    { name: "the same peer commits again, later", first: [[A, 10]], next: [[A, 20]], want: [[A, 10]] },
    {
      name: "the peer's seq is lower (a delete's lower bound)",
      first: [[A, 10]],
      next: [[A, 8]],
      want: [[A, 8]],
    },
    {
      name: "a peer missed the second write",
      first: [
        [A, 10],
        [C, 3],
      ],
      next: [[A, 20]],
      want: [[A, 10]],
    },
    {
      name: "a peer committed only the second write",
      first: [[A, 10]],
      next: [
        [A, 12],
        [C, 5],
      ],
      want: [[A, 10]],
    },
    { name: "no peer committed both", first: [[A, 10]], next: [[C, 5]], want: [] },
  ] as { name: string; first: [string, number][]; next: [string, number][]; want: [string, number][] }[])(
    "when $name, then the marks are $want",
    ({ first, next, want }) => {
      const s = recordMiss(recordMiss(undefined, 0, new Map(first)), 5, new Map(next));
      expect(s.misses).toBe(2);
      expect(s.since).toBe(0);
      expect([...s.marks]).toEqual(want);
    },
  );
});

describe("chooseSource", () => {
  it.each([
    {
      name: "one in-sync peer with a mark",
      marks: [[A, 10]],
      peers: [peer(A)],
      want: { from: A, afterSeq: 10 },
    },
    {
      name: "the marked peer is down, another in-sync peer has none",
      marks: [[A, 10]],
      peers: [peer(A, { live: false }), peer(C)],
      want: { from: C, afterSeq: 0 },
    },
    {
      name: "the first in-sync peer has no mark, the second has",
      marks: [[C, 7]],
      peers: [peer(A), peer(C)],
      want: { from: C, afterSeq: 7 },
    },
    {
      name: "the marked peer is lagging itself",
      marks: [[A, 10]],
      peers: [peer(A, { lagging: true })],
      want: undefined,
    },
    {
      name: "the marked peer is being seeded",
      marks: [[A, 10]],
      peers: [peer(A, { syncing: true })],
      want: undefined,
    },
    {
      name: "the marked peer's /readyz says it catches up",
      marks: [[A, 10]],
      peers: [peer(A, { catchingUp: true })],
      want: undefined,
    },
    { name: "there is no other replica", marks: [], peers: [], want: undefined },
  ] as { name: string; marks: [string, number][]; peers: PeerView[]; want: unknown }[])(
    "when $name, then the source is $want",
    ({ marks, peers, want }) => {
      expect(chooseSource(lag(marks), peers)).toEqual(want);
    },
  );
});

describe("covers", () => {
  it.each([
    { name: "from the marked peer at the mark", run: { from: A, afterSeq: 10 }, want: true },
    { name: "from the marked peer below the mark", run: { from: A, afterSeq: 3 }, want: true },
    { name: "with a trailing slash on the source", run: { from: `${A}/`, afterSeq: 10 }, want: true },
    { name: "from the marked peer above the mark", run: { from: A, afterSeq: 11 }, want: false },
    { name: "from a peer without a mark, after 0", run: { from: C, afterSeq: 0 }, want: true },
    { name: "from a peer without a mark, after 5", run: { from: C, afterSeq: 5 }, want: false },
    { name: "from a lagging peer", run: { from: B, afterSeq: 0 }, want: false },
    { name: "from a URL not in the shard", run: { from: "http://x:1", afterSeq: 0 }, want: false },
    { name: "with no source", run: { afterSeq: 0 }, want: false },
  ])("when the catch-up runs $name, then it covers: $want", ({ run, want }) => {
    const peers = [peer(A), peer(B, { lagging: true }), peer(C)];
    expect(
      covers(
        lag([
          [A, 10],
          [B, 2],
        ]),
        run,
        peers,
      ),
    ).toBe(want);
  });
});

describe("nextRepairStep", () => {
  it.each([
    {
      name: "the replica is listed syncing in the config",
      replica: { live: true, syncing: true },
      state: lag([[A, 10]]),
      now: 0,
      want: "wait",
    },
    {
      name: "the replica is down",
      replica: { live: false, syncing: false },
      state: lag([[A, 10]]),
      now: 0,
      want: "wait",
    },
    {
      name: "it waits for a backoff",
      replica: { live: true, syncing: false },
      state: lag([[A, 10]], 1, { phase: "waiting", attempts: 1, retryAt: 1000, reason: "failed" }),
      now: 999,
      want: "wait",
    },
    {
      name: "the backoff passed",
      replica: { live: true, syncing: false },
      state: lag([[A, 10]], 1, { phase: "waiting", attempts: 1, retryAt: 1000, reason: "failed" }),
      now: 1000,
      want: "start",
    },
    {
      name: "a catch-up runs",
      replica: { live: true, syncing: false },
      state: lag([[A, 10]], 1, catchingUp(A, 10)),
      now: 0,
      want: "poll",
    },
  ])("when $name, then the step is $want", ({ replica, state, now, want }) => {
    expect(nextRepairStep(state, replica, [peer(A)], now).kind).toBe(want);
  });

  it("when no peer is in sync, then it waits and says why", () => {
    const step = nextRepairStep(
      lag([[A, 10]]),
      { live: true, syncing: false },
      [peer(A, { live: false })],
      0,
    );
    expect(step).toEqual({ kind: "wait", reason: expect.stringContaining("no live in-sync peer") });
  });
});

describe("afterStart", () => {
  const peers = [peer(A), peer(C)];

  it("when our catch-up started, then the replica is catching up from our mark and it covers the misses so far", () => {
    const r = afterStart(lag([[A, 10]], 3), { from: A, afterSeq: 10 }, running(A, 10), 3, peers, 0);
    expect(r.outcome).toBeUndefined();
    expect(r.repair).toMatchObject({
      phase: "catching-up",
      own: true,
      covers: true,
      missesAtStart: 3,
      joinedAtSeq: 50,
    });
  });

  it("when another router's catch-up runs from an older seq of the same peer, then it is followed and covers", () => {
    const r = afterStart(lag([[A, 10]]), { from: A, afterSeq: 10 }, running(A, 4), 1, peers, 0);
    expect(r.repair).toMatchObject({ phase: "catching-up", own: false, covers: true, afterSeq: 4 });
  });

  it("when another catch-up runs from a later seq, then it is followed but does not cover", () => {
    const r = afterStart(lag([[A, 10]]), { from: A, afterSeq: 10 }, running(A, 30), 1, peers, 0);
    expect(r.repair).toMatchObject({ phase: "catching-up", own: false, covers: false });
  });

  it("when the POST fails, then it waits out a backoff and counts a failure", () => {
    const r = afterStart(
      lag([[A, 10]]),
      { from: A, afterSeq: 10 },
      { callFailed: "connection refused" },
      1,
      peers,
      500,
    );
    expect(r.outcome).toBe("failed");
    expect(r.repair).toMatchObject({ phase: "waiting", attempts: 1, retryAt: 500 + repairBackoffMs(1) });
    expect(r.reason).toContain("connection refused");
  });
});

describe("afterPoll", () => {
  const peers = [peer(A), peer(C)];
  const done = (from: string, afterSeq: number, joinedAtSeq = 50): SyncView => ({
    ...running(from, afterSeq, joinedAtSeq),
    phase: "done",
    upserted: 12,
    deleted: 3,
  });

  it.each([
    {
      name: "it still runs",
      state: catchingUp(A, 10),
      misses: 1,
      answer: running(A, 10),
      outcome: undefined,
      phase: "catching-up",
    },
    {
      name: "it is done and no write was missed since",
      state: catchingUp(A, 10),
      misses: 1,
      answer: done(A, 10),
      outcome: "repaired",
      phase: undefined,
    },
    {
      name: "it is done but a write was missed during it",
      state: catchingUp(A, 10),
      misses: 2,
      answer: done(A, 10),
      outcome: "restarted",
      phase: "waiting",
    },
    {
      name: "another router's run is done but did not cover our mark",
      state: catchingUp(A, 30, { own: false, covers: false }),
      misses: 1,
      answer: done(A, 30),
      outcome: "restarted",
      phase: "waiting",
    },
    {
      name: "another router's covering run is done",
      state: catchingUp(A, 4, { own: false, covers: true }),
      misses: 1,
      answer: done(A, 4),
      outcome: "repaired",
      phase: undefined,
    },
    {
      name: "it failed",
      state: catchingUp(A, 10),
      misses: 1,
      answer: { ...running(A, 10), phase: "failed" as const, error: "peer 503" },
      outcome: "failed",
      phase: "waiting",
    },
    {
      name: "the replica restarted (idle)",
      state: catchingUp(A, 10),
      misses: 1,
      answer: { phase: "idle" as const, upserted: 0, deleted: 0, skipped: 0 },
      outcome: "failed",
      phase: "waiting",
    },
    {
      name: "the replica did not answer",
      state: catchingUp(A, 10),
      misses: 1,
      answer: { callFailed: "timeout" },
      outcome: "failed",
      phase: "waiting",
    },
    {
      name: "a different run finished (ours ended unseen)",
      state: catchingUp(A, 10),
      misses: 1,
      answer: done(A, 10, 77),
      outcome: "restarted",
      phase: "waiting",
    },
  ])("when $name, then the outcome is $outcome", ({ state, misses, answer, outcome, phase }) => {
    const l = lag([[A, 10]], misses, state);
    const r = afterPoll(l, answer, peers, 0);
    expect(r.outcome).toBe(outcome);
    expect(r.repair?.phase).toBe(phase);
  });

  it("when a different run is running, then it is followed from now on and covers only later misses", () => {
    const l = lag([[A, 10]], 4, catchingUp(A, 10, { missesAtStart: 2 }));
    const r = afterPoll(l, running(C, 0, 90), peers, 0);
    expect(r.repair).toMatchObject({
      phase: "catching-up",
      from: C,
      own: false,
      covers: true,
      missesAtStart: 4,
    });
  });

  it("when catch-ups keep failing, then the backoff doubles up to 30 s", () => {
    expect([1, 2, 3, 5, 6, 10].map(repairBackoffMs)).toEqual([1000, 2000, 4000, 16_000, 30_000, 30_000]);
  });
});

describe("a lagging replica's repair, tick by tick", () => {
  it("when a write is missed during the first catch-up, then a second one runs and only it repairs", () => {
    const peers = [peer(A)];
    let s = recordMiss(undefined, 0, new Map([[A, 100]]));
    let step = nextRepairStep(s, { live: true, syncing: false }, peers, 10);
    expect(step).toEqual({ kind: "start", from: A, afterSeq: 100 });
    let r = afterStart(s, { from: A, afterSeq: 100 }, running(A, 100, 40), s.misses, peers, 10);
    s.repair = r.repair!;
    s = recordMiss(s, 20, new Map([[A, 130]]));
    expect(nextRepairStep(s, { live: true, syncing: false }, peers, 30).kind).toBe("poll");
    r = afterPoll(s, { ...running(A, 100, 40), phase: "done" }, peers, 40);
    expect(r.outcome).toBe("restarted");
    s.repair = r.repair!;
    step = nextRepairStep(s, { live: true, syncing: false }, peers, 40);
    // The marks keep the lowest seq: the second catch-up re-reads the first miss's rows too.
    expect(step).toEqual({ kind: "start", from: A, afterSeq: 100 });
    r = afterStart(s, { from: A, afterSeq: 100 }, running(A, 100, 60), s.misses, peers, 40);
    s.repair = r.repair!;
    r = afterPoll(s, { ...running(A, 100, 60), phase: "done" }, peers, 50);
    expect(r).toEqual({ repair: undefined, outcome: "repaired" });
  });
});
