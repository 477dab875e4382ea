import { describe, expect, it } from "vitest";
import { nextCapacity, shouldCompact } from "../../../src/shard/compaction.js";

describe("compaction decision", () => {
  const policy = { minDeleted: 100, maxDeletedFraction: 0.25 };
  const cases = [
    { deleted: 0, total: 0, want: false, why: "an empty graph" },
    { deleted: 99, total: 100, want: false, why: "fewer tombstones than the minimum" },
    { deleted: 100, total: 1000, want: false, why: "tombstones below the fraction" },
    { deleted: 250, total: 1000, want: true, why: "tombstones at the fraction" },
    { deleted: 900, total: 1000, want: true, why: "mostly tombstones" },
  ];
  for (const c of cases) {
    it(`when the graph has ${c.why} (${c.deleted}/${c.total}), then compaction is ${c.want}`, () => {
      expect(shouldCompact(c, policy)).toBe(c.want);
    });
  }
});

describe("capacity growth", () => {
  const cases = [
    { current: 1024, needed: 10, want: 1024 },
    { current: 1024, needed: 1025, want: 1536 },
    { current: 1024, needed: 5000, want: 5000 },
    { current: 0, needed: 1, want: 1024 },
  ];
  for (const c of cases) {
    it(`when capacity is ${c.current} and ${c.needed} must fit, then it becomes ${c.want}`, () => {
      expect(nextCapacity(c.current, c.needed)).toBe(c.want);
    });
  }
});
