import { describe, expect, it } from "vitest";
import {
  type GenerationReplicasInput,
  generationReplicas,
  replicaWaitMessage,
} from "../../../controllers/vector-index/replica-hold.js";

describe("generationReplicas: a change of spec.replicas waits while a generation move runs", () => {
  const cases: { name: string; input: GenerationReplicasInput; replicas: number; waits: boolean }[] = [
    {
      name: "the active generation outside a move follows spec.replicas (raise)",
      input: { specReplicas: 3, moving: false, active: true, running: [1, 1] },
      replicas: 3,
      waits: false,
    },
    {
      name: "the active generation outside a move follows spec.replicas (lower)",
      input: { specReplicas: 1, moving: false, active: true, running: [2, 2] },
      replicas: 1,
      waits: false,
    },
    {
      name: "a new index (no StatefulSets) is created with spec.replicas",
      input: { specReplicas: 2, moving: false, active: true, running: [] },
      replicas: 2,
      waits: false,
    },
    {
      name: "N+1 not created yet is created with spec.replicas",
      input: { specReplicas: 2, moving: true, active: false, running: [] },
      replicas: 2,
      waits: false,
    },
    {
      name: "N+1 keeps the count it was created with when spec.replicas goes up mid-move",
      input: { specReplicas: 3, moving: true, active: false, running: [1, 1] },
      replicas: 1,
      waits: true,
    },
    {
      name: "N+1 keeps its count when spec.replicas goes down mid-move",
      input: { specReplicas: 1, moving: true, active: false, running: [2, 2] },
      replicas: 2,
      waits: true,
    },
    {
      name: "N (active) keeps its count mid-move, as under serve",
      input: { specReplicas: 2, moving: true, active: true, running: [1, 1] },
      replicas: 1,
      waits: true,
    },
    {
      name: "N+1 promoting (active, still moving) keeps its count",
      input: { specReplicas: 2, moving: true, active: true, running: [1, 1] },
      replicas: 1,
      waits: true,
    },
    {
      name: "a raise of N begun before the move finishes on the shards that run it: the most kept",
      input: { specReplicas: 3, moving: true, active: true, running: [2, 1] },
      replicas: 2,
      waits: true,
    },
    {
      name: "mid-move with spec.replicas unchanged: nothing waits",
      input: { specReplicas: 2, moving: true, active: false, running: [2, 2] },
      replicas: 2,
      waits: false,
    },
    {
      name: "N retained after the promotion keeps its count, and nothing is reported as waiting",
      input: { specReplicas: 2, moving: false, active: false, running: [1, 1] },
      replicas: 1,
      waits: false,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(generationReplicas(c.input)).toEqual({ replicas: c.replicas, waits: c.waits });
    });
});

describe("replicaWaitMessage", () => {
  it("is undefined when nothing waits", () => {
    expect(replicaWaitMessage(2, [])).toBeUndefined();
  });
  it("names spec.replicas, when it applies, and each generation's kept count", () => {
    expect(
      replicaWaitMessage(2, [
        { generation: "g-aaaaaaaaaaaa", replicas: 1 },
        { generation: "g-bbbbbbbbbbbb", replicas: 1 },
      ]),
    ).toBe(
      "replica change waits for the generation move: spec.replicas 2 applies to the active generation " +
        "once the move ends (promoted or failed); per shard, g-aaaaaaaaaaaa keeps 1, g-bbbbbbbbbbbb keeps 1",
    );
  });
});
