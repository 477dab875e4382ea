import { describe, expect, it } from "vitest";
import { pickReplica, type ReplicaState, ShardReplicas } from "../../../src/router/replica-pool.js";
import { recordMiss } from "../../../src/router/replica-repair.js";

const r = (url: string, inFlight = 0, live = true, syncing = false): ReplicaState => ({
  url,
  live,
  inFlight,
  lastError: undefined,
  syncing,
  lagging: undefined,
  catchingUp: false,
});
const lagging = (url: string, inFlight = 0, live = true): ReplicaState => ({
  ...r(url, inFlight, live),
  lagging: recordMiss(undefined, 0, new Map([["http://a", 1]])),
});
const catchingUp = (url: string, inFlight = 0): ReplicaState => ({ ...r(url, inFlight), catchingUp: true });

describe("pickReplica", () => {
  it.each([
    { name: "all idle, cursor 0", replicas: [r("a"), r("b"), r("c")], exclude: [], cursor: 0, want: 0 },
    { name: "all idle, cursor 2", replicas: [r("a"), r("b"), r("c")], exclude: [], cursor: 2, want: 2 },
    { name: "one busier", replicas: [r("a", 3), r("b", 1), r("c", 2)], exclude: [], cursor: 0, want: 1 },
    {
      name: "the idlest is down",
      replicas: [r("a", 3), r("b", 0, false), r("c", 2)],
      exclude: [],
      cursor: 0,
      want: 2,
    },
    {
      name: "the idlest was already tried",
      replicas: [r("a", 3), r("b"), r("c", 2)],
      exclude: ["b"],
      cursor: 0,
      want: 2,
    },
    { name: "none live", replicas: [r("a", 0, false), r("b", 0, false)], exclude: [], cursor: 0, want: -1 },
    { name: "all tried", replicas: [r("a"), r("b")], exclude: ["a", "b"], cursor: 1, want: -1 },
    {
      name: "the idlest is syncing",
      replicas: [r("a", 3), r("b", 0, true, true), r("c", 2)],
      exclude: [],
      cursor: 0,
      want: 2,
    },
    {
      name: "only a syncing one is live",
      replicas: [r("a", 0, false), r("b", 0, true, true)],
      exclude: [],
      cursor: 0,
      want: -1,
    },
    {
      name: "the idlest is lagging",
      replicas: [r("a", 3), lagging("b"), r("c", 2)],
      exclude: [],
      cursor: 0,
      want: 2,
    },
    {
      name: "the idlest's /readyz says it is catching up",
      replicas: [r("a", 3), catchingUp("b")],
      exclude: [],
      cursor: 1,
      want: 0,
    },
    {
      name: "the only in-sync replica is down",
      replicas: [r("a", 0, false), lagging("b", 2), catchingUp("c", 1)],
      exclude: [],
      cursor: 0,
      want: 2,
    },
    {
      name: "the only in-sync replica was already tried (a hedge)",
      replicas: [r("a"), lagging("b")],
      exclude: ["a"],
      cursor: 0,
      want: -1,
    },
  ])("when $name, then replica $want is picked", ({ replicas, exclude, cursor, want }) => {
    expect(pickReplica(replicas, new Set(exclude), cursor)).toBe(want);
  });
});

describe("ShardReplicas", () => {
  it("when equal replicas are picked in turn, then they share the load round-robin", () => {
    const s = new ShardReplicas("s0", ["http://a", "http://b"]);
    expect([1, 2, 3, 4].map(() => s.pick(new Set())?.url)).toEqual([
      "http://a",
      "http://b",
      "http://a",
      "http://b",
    ]);
  });

  it("when the config is reloaded, then liveness and latencies carry over for the same URLs only", () => {
    const old = new ShardReplicas("s0", ["http://a", "http://b"]);
    old.markDown("http://a", "connection refused");
    old.latency.record(5);
    const next = new ShardReplicas("s0", ["http://a", "http://c"], old);
    expect(next.replicas.map((x) => x.live)).toEqual([false, true]);
    expect(next.replicas[0]!.lastError).toBe("connection refused");
    expect(next.latency.size).toBe(1);
    expect(next.liveCount()).toBe(1);
  });

  it("when a replica is syncing, then it is never picked for a query and does not count as a live replica", () => {
    const s = new ShardReplicas("s0", ["http://a", "http://b"], undefined, ["http://b"]);
    expect([1, 2, 3, 4].map(() => s.pick(new Set())?.url)).toEqual([
      "http://a",
      "http://a",
      "http://a",
      "http://a",
    ]);
    expect(s.liveCount()).toBe(1);
    const flipped = new ShardReplicas("s0", ["http://a", "http://b"], s);
    expect(flipped.replicas.map((x) => x.syncing)).toEqual([false, false]);
    expect(flipped.liveCount()).toBe(2);
  });

  it("when a replica missed a write, then it is lagging, not picked, and stays lagging across a config reload", () => {
    const s = new ShardReplicas("s0", ["http://a", "http://b"]);
    expect(s.recordMiss("http://b", new Map([["http://a", 7]]))).toBe(true);
    expect(s.recordMiss("http://b", new Map([["http://a", 9]]))).toBe(false);
    expect([1, 2, 3].map(() => s.pick(new Set())?.url)).toEqual(["http://a", "http://a", "http://a"]);
    const next = new ShardReplicas("s0", ["http://a", "http://b"], s);
    expect(next.replicas[1]!.lagging?.marks.get("http://a")).toBe(7);
    expect(next.replicas[1]!.lagging?.misses).toBe(2);
    expect(next.laggingCount()).toBe(1);
    expect(next.liveCount()).toBe(2);
  });

  it("when a write that began before a config reload misses a replica, then the reloaded set lists it lagging", () => {
    const old = new ShardReplicas("s0", ["http://a", "http://b"]);
    const next = new ShardReplicas("s0", ["http://a", "http://b"], old);
    expect(old.recordMiss("http://b", new Map([["http://a", 3]]))).toBe(true);
    expect(next.replicas[1]!.lagging?.marks.get("http://a")).toBe(3);
    expect(next.laggingCount()).toBe(1);
  });

  it("when a write committed nowhere, then no replica becomes lagging", () => {
    const s = new ShardReplicas("s0", ["http://a", "http://b"]);
    expect(s.recordMiss("http://b", new Map())).toBe(false);
    expect(s.laggingCount()).toBe(0);
  });
});
