import { describe, expect, it } from "vitest";
import { mergeTopK, type ShardHits } from "../../../src/router/merge.js";

const ids = (hits: { id: string }[]) => hits.map((h) => h.id);

describe("mergeTopK", () => {
  const a: ShardHits = {
    shard: "s0",
    results: [
      { id: "a1", score: 0.9 },
      { id: "a2", score: 0.5 },
    ],
  };
  const b: ShardHits = {
    shard: "s1",
    results: [
      { id: "b1", score: 0.8 },
      { id: "b2", score: 0.7 },
    ],
  };

  it.each([
    { name: "higher is better, k=3", order: "higher" as const, k: 3, want: ["a1", "b1", "b2"] },
    { name: "lower is better, k=3", order: "lower" as const, k: 3, want: ["a2", "b2", "b1"] },
    { name: "k larger than all results", order: "higher" as const, k: 100, want: ["a1", "b1", "b2", "a2"] },
    { name: "k=0", order: "higher" as const, k: 0, want: [] },
  ])("when $name, then the best hits come first", ({ order, k, want }) => {
    expect(ids(mergeTopK([a, b], k, order))).toEqual(want);
  });

  it("when scores tie, then ids break the tie in ascending order whatever the shard order", () => {
    const x: ShardHits = {
      shard: "s1",
      results: [
        { id: "z", score: 1 },
        { id: "m", score: 1 },
      ],
    };
    const y: ShardHits = { shard: "s0", results: [{ id: "c", score: 1 }] };
    expect(ids(mergeTopK([x, y], 3, "higher"))).toEqual(["c", "m", "z"]);
    expect(ids(mergeTopK([y, x], 3, "higher"))).toEqual(["c", "m", "z"]);
  });

  it("when the same id comes from two shards, then it appears once with its best score and that shard", () => {
    const x: ShardHits = { shard: "s0", results: [{ id: "dup", score: 0.4 }] };
    const y: ShardHits = {
      shard: "s1",
      results: [
        { id: "dup", score: 0.6 },
        { id: "o", score: 0.5 },
      ],
    };
    const merged = mergeTopK([x, y], 10, "higher");
    expect(merged).toEqual([
      { id: "dup", score: 0.6, shard: "s1" },
      { id: "o", score: 0.5, shard: "s1" },
    ]);
  });

  it("when a duplicate id has the same score on two shards, then the lower shard name wins", () => {
    const x: ShardHits = { shard: "s1", results: [{ id: "dup", score: 0.5 }] };
    const y: ShardHits = { shard: "s0", results: [{ id: "dup", score: 0.5 }] };
    expect(mergeTopK([x, y], 10, "higher")).toEqual([{ id: "dup", score: 0.5, shard: "s0" }]);
  });

  it("when hits carry metadata and text, then they are kept with the shard name added", () => {
    const x: ShardHits = {
      shard: "s0",
      results: [{ id: "a", score: 1, metadata: { lang: "en" }, text: "hi" }],
    };
    expect(mergeTopK([x], 1, "higher")).toEqual([
      { id: "a", score: 1, metadata: { lang: "en" }, text: "hi", shard: "s0" },
    ]);
  });

  it("when no shard has results, then the merge is empty", () => {
    expect(mergeTopK([{ shard: "s0", results: [] }], 10, "lower")).toEqual([]);
  });
});
