import { describe, expect, it } from "vitest";
import {
  describeSeeding,
  type ReplicaObservation,
  replicaActions,
  replicasToSeedAtStart,
} from "../../../src/local/replica-plan.js";

const slot = (replica: number, o: Partial<ReplicaObservation> = {}): ReplicaObservation => ({
  replica,
  running: false,
  serving: false,
  hasData: false,
  marked: false,
  ...o,
});
const serving = (replica: number) => slot(replica, { running: true, serving: true, hasData: true });

describe("replicasToSeedAtStart", () => {
  it.each([
    {
      name: "a new index (no replica has data)",
      replicas: [slot(0), slot(1)],
      desired: 2,
      want: [],
    },
    {
      name: "every replica has data",
      replicas: [slot(0, { hasData: true }), slot(1, { hasData: true })],
      desired: 2,
      want: [],
    },
    {
      name: "replica 1 is empty beside a peer with data (spec.replicas raised while serve was stopped)",
      replicas: [slot(0, { hasData: true }), slot(1)],
      desired: 2,
      want: [{ kind: "seed", shard: "shard-0", replica: 1, from: 0 }],
    },
    {
      name: "replica 0's seeding was cut short (marked), replica 1 holds data",
      replicas: [slot(0, { hasData: true, marked: true }), slot(1, { hasData: true })],
      desired: 2,
      want: [{ kind: "seed", shard: "shard-0", replica: 0, from: 1 }],
    },
    {
      name: "the only replica with data is beyond spec.replicas",
      replicas: [slot(0), slot(1, { hasData: true })],
      desired: 1,
      want: [],
    },
  ])("when $name, then $want.length replica(s) wait to be seeded", ({ replicas, desired, want }) => {
    expect(replicasToSeedAtStart([{ shard: "shard-0", replicas }], desired)).toEqual(want);
  });

  it("when every replica's seeding was cut short, then it is blocked, saying how to recover", () => {
    const [a] = replicasToSeedAtStart(
      [{ shard: "shard-0", replicas: [slot(0, { hasData: true, marked: true })] }],
      1,
    );
    expect(a).toMatchObject({ kind: "blocked", replica: 0 });
    expect(a && "why" in a ? a.why : "").toContain("restore the index from a snapshot");
  });
});

describe("replicaActions", () => {
  it.each([
    { name: "replicas match the spec", replicas: [serving(0), serving(1)], desired: 2, want: [] },
    {
      name: "spec.replicas raised from 1 to 3",
      replicas: [serving(0)],
      desired: 3,
      want: [
        { kind: "seed", shard: "s", replica: 1, from: 0 },
        { kind: "seed", shard: "s", replica: 2, from: 0 },
      ],
    },
    {
      name: "spec.replicas lowered from 3 to 1",
      replicas: [serving(0), serving(1), serving(2)],
      desired: 1,
      want: [
        { kind: "stop", shard: "s", replica: 1 },
        { kind: "stop", shard: "s", replica: 2 },
      ],
    },
    {
      name: "replica 0 is gone and replica 1 serves",
      replicas: [slot(0), serving(1)],
      desired: 2,
      want: [{ kind: "seed", shard: "s", replica: 0, from: 1 }],
    },
    {
      name: "a syncing replica runs (not serving): it is not a source and not seeded again",
      replicas: [serving(0), slot(1, { running: true, hasData: true })],
      desired: 2,
      want: [],
    },
  ])("when $name, then the actions are as planned", ({ replicas, desired, want }) => {
    expect(replicaActions([{ shard: "s", replicas }], desired)).toEqual(want);
  });

  it("when no replica of the shard serves, then the new one is blocked rather than seeded from nothing", () => {
    expect(replicaActions([{ shard: "s", replicas: [slot(0, { running: true })] }], 2)).toEqual([
      expect.objectContaining({ kind: "blocked", replica: 1 }),
    ]);
  });
});

describe("describeSeeding", () => {
  it("when a replica syncs, then the line gives the peer seq read, the peer's newest and the rows copied", () => {
    expect(
      describeSeeding({
        shard: "shard-0",
        replica: 1,
        phase: "syncing",
        watermark: 100,
        readSeq: 140,
        sourceSeq: 180,
        syncedRows: 40,
      }),
    ).toBe("shard-0 replica 1 syncing: peer seq 140/180, 40 rows copied");
  });
});
