import { describe, expect, it } from "vitest";
import { fnv1a32, shardForId } from "../../../src/router/shard-hash.js";

describe("fnv1a32", () => {
  // Published FNV-1a test vectors plus non-ASCII ids, computed independently (Python): a client in
  // any language that follows the documented rule lands on the same shard.
  it.each([
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
    ["doc-1", 0x5a0f449b],
    ["héllo wörld", 0xd41e41a2],
    ["日本語", 0x805f5ce7],
  ])("when the id is %j, then the hash is the published/pinned value", (id, expected) => {
    expect(fnv1a32(id)).toBe(expected);
  });
});

describe("shardForId", () => {
  const ids = Array.from({ length: 12 }, (_, i) => `doc-${i}`);

  it("when ids are routed over 4 shards, then each lands on its pinned shard", () => {
    expect(ids.map((id) => shardForId(id, 4))).toEqual([0, 3, 2, 1, 0, 3, 2, 1, 0, 3, 1, 2]);
  });

  it("when ids are routed over 3 shards, then each lands on its pinned shard", () => {
    expect(ids.map((id) => shardForId(id, 3))).toEqual([2, 1, 0, 2, 1, 0, 2, 1, 1, 0, 1, 2]);
  });

  it("when there is one shard, then every id goes to shard 0", () => {
    expect(new Set(ids.map((id) => shardForId(id, 1)))).toEqual(new Set([0]));
  });

  it("when 40,000 ids are routed over 4 shards, then each shard gets within 5% of a quarter", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[shardForId(`sentence-${i}`, 4)]! += 1;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it("when the shard count is not a positive integer, then it throws", () => {
    expect(() => shardForId("x", 0)).toThrow(/positive integer/);
    expect(() => shardForId("x", 1.5)).toThrow(/positive integer/);
  });
});
