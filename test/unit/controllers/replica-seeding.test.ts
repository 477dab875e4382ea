import { describe, expect, it } from "vitest";
import {
  type ReplicaObservation,
  type ReplicaSyncStatus,
  replicaKey,
  replicaSeedingStep,
  replicasToObserve,
} from "../../../controllers/vector-index/replica-seeding.js";

const G = "g-0123456789ab";
const SHARDS = ["shard-0", "shard-1"];
const none = new Map<string, ReplicaObservation>();
const serving = (n: number, extra: Partial<ReplicaSyncStatus> = {}): ReplicaSyncStatus => ({
  generation: G,
  servingReplicas: n,
  replicas: [],
  ...extra,
});
const seen = (entries: Record<string, ReplicaObservation>) => new Map(Object.entries(entries));
const ready = (o: Partial<ReplicaObservation> = {}): ReplicaObservation => ({
  ready: true,
  seededAtSeq: 40,
  routersWriteToIt: true,
  ...o,
});

describe("replicaSeedingStep: which replicas are new", () => {
  const cases: {
    name: string;
    previous: ReplicaSyncStatus | undefined;
    desired: number;
    /** The count the generation's StatefulSets run (undefined: none exist). */
    running?: number;
    serving: number;
    syncing: Record<string, number[]>;
  }[] = [
    {
      name: "a new index: every replica serves at once",
      previous: undefined,
      desired: 3,
      serving: 3,
      syncing: {},
    },
    {
      name: "another generation's record: the new generation's replicas start together",
      previous: { generation: "g-other", servingReplicas: 1, replicas: [] },
      desired: 2,
      serving: 2,
      syncing: {},
    },
    {
      name: "another generation's record and the new one's StatefulSets at that count: they start together",
      previous: { generation: "g-other", servingReplicas: 2, replicas: [] },
      desired: 2,
      running: 2,
      serving: 2,
      syncing: {},
    },
    {
      name: "N+1 promoted at 1 replica while spec.replicas went to 2 during the move: replica 1 is new and syncs",
      previous: { generation: "g-other", servingReplicas: 1, replicas: [] },
      desired: 2,
      running: 1,
      serving: 1,
      syncing: { "shard-0": [1], "shard-1": [1] },
    },
    {
      name: "N+1 promoted at 3 replicas while spec.replicas went to 1: no replica is new",
      previous: { generation: "g-other", servingReplicas: 3, replicas: [] },
      desired: 1,
      running: 3,
      serving: 1,
      syncing: {},
    },
    {
      name: "this generation's record wins over its StatefulSets' count",
      previous: serving(2),
      desired: 2,
      running: 1,
      serving: 2,
      syncing: {},
    },
    { name: "replicas unchanged: nothing syncs", previous: serving(2), desired: 2, serving: 2, syncing: {} },
    { name: "replicas lowered: nothing syncs", previous: serving(3), desired: 1, serving: 1, syncing: {} },
    {
      name: "replicas raised 1 -> 2: replica 1 of every shard syncs",
      previous: serving(1),
      desired: 2,
      serving: 1,
      syncing: { "shard-0": [1], "shard-1": [1] },
    },
    {
      name: "replicas raised 1 -> 3: replicas 1 and 2 sync",
      previous: serving(1),
      desired: 3,
      serving: 1,
      syncing: { "shard-0": [1, 2], "shard-1": [1, 2] },
    },
  ];
  for (const c of cases)
    it(`when ${c.name}`, () => {
      const step = replicaSeedingStep({
        generation: G,
        shards: SHARDS,
        desired: c.desired,
        previous: c.previous,
        running: c.running,
        observed: none,
      });
      expect(step.status.servingReplicas).toBe(c.serving);
      expect(Object.fromEntries(step.syncing)).toEqual(c.syncing);
      expect(step.startSync).toEqual([]);
      expect(step.requeue).toBe(Object.keys(c.syncing).length > 0);
    });
});

describe("replicaSeedingStep: one new replica's way to Synced", () => {
  const cases: {
    name: string;
    observed: ReplicaObservation | undefined;
    phase: string;
    start: boolean;
    message?: RegExp;
  }[] = [
    { name: "its pod is not ready", observed: undefined, phase: "Seeding", start: false, message: /ready/ },
    {
      name: "it reports no seed watermark",
      observed: ready({ seededAtSeq: undefined }),
      phase: "Seeding",
      start: false,
      message: /seeded-from/,
    },
    {
      name: "a router does not write to it yet",
      observed: ready({ routersWriteToIt: false, routersWhy: "router-a lists it as absent" }),
      phase: "Syncing",
      start: false,
      message: /router-a lists it as absent/,
    },
    {
      name: "ready, seeded and written to: the catch-up starts",
      observed: ready(),
      phase: "Syncing",
      start: true,
    },
    {
      name: "its catch-up runs",
      observed: ready({ sync: { phase: "running", afterSeq: 40, rows: 12 } }),
      phase: "Syncing",
      start: false,
    },
    {
      name: "its catch-up failed: started again",
      observed: ready({ sync: { phase: "failed", rows: 0, error: "peer answered 503" } }),
      phase: "Syncing",
      start: true,
      message: /peer answered 503/,
    },
    {
      name: "its catch-up is done",
      observed: ready({ sync: { phase: "done", afterSeq: 40, rows: 25 } }),
      phase: "Synced",
      start: false,
    },
  ];
  for (const c of cases)
    it(`when ${c.name}, then it is ${c.phase}`, () => {
      const step = replicaSeedingStep({
        generation: G,
        shards: ["shard-0"],
        desired: 2,
        previous: serving(1),
        observed: c.observed ? seen({ [replicaKey("shard-0", 1)]: c.observed }) : none,
      });
      const entry = step.status.replicas.find((r) => r.replica === 1);
      expect(entry?.phase).toBe(c.phase);
      if (c.message) expect(entry?.message).toMatch(c.message);
      expect(step.startSync).toEqual(
        c.start ? [{ shard: "shard-0", replica: 1, fromReplica: 0, afterSeq: 40 }] : [],
      );
      const synced = c.phase === "Synced";
      expect(step.status.servingReplicas).toBe(synced ? 2 : 1);
      expect(Object.fromEntries(step.syncing)).toEqual(synced ? {} : { "shard-0": [1] });
      expect(step.requeue).toBe(!synced);
      expect(step.status.seeded).toBe(true);
    });

  it("when one shard's new replica is Synced and the other's still syncs, then both stay out of the served count and only the second is listed as syncing", () => {
    const step = replicaSeedingStep({
      generation: G,
      shards: SHARDS,
      desired: 2,
      previous: serving(1),
      observed: seen({
        [replicaKey("shard-0", 1)]: ready({ sync: { phase: "done", rows: 3 } }),
        [replicaKey("shard-1", 1)]: ready({ sync: { phase: "running", rows: 1 } }),
      }),
    });
    expect(step.status.servingReplicas).toBe(1);
    expect(Object.fromEntries(step.syncing)).toEqual({ "shard-1": [1] });
    expect(replicasToObserve(step.status).map((r) => replicaKey(r.shard, r.replica))).toEqual(["shard-1/1"]);
  });

  it("when every new replica was Synced, then the next reconcile serves them all and keeps the record", () => {
    const previous = serving(1, {
      seeded: true,
      replicas: [{ shard: "shard-0", replica: 1, phase: "Synced", seededAtSeq: 40, rowsCaughtUp: 25 }],
    });
    const step = replicaSeedingStep({
      generation: G,
      shards: ["shard-0"],
      desired: 2,
      previous,
      observed: none,
    });
    expect(step.status).toEqual({ ...previous, servingReplicas: 2 });
    expect(step.syncing.size).toBe(0);
    expect(step.requeue).toBe(false);
  });

  it("when replicas are lowered below a synced one, then its record goes and the seed container stays", () => {
    const previous = serving(2, {
      seeded: true,
      replicas: [{ shard: "shard-0", replica: 1, phase: "Synced", seededAtSeq: 40, rowsCaughtUp: 25 }],
    });
    const step = replicaSeedingStep({
      generation: G,
      shards: ["shard-0"],
      desired: 1,
      previous,
      observed: none,
    });
    expect(step.status).toEqual({ generation: G, servingReplicas: 1, seeded: true, replicas: [] });
  });
});
