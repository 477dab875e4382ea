import { describe, expect, it } from "vitest";
import { heldOutIndices, meanRecall, qpsAtRecall } from "../../../bench/index/recall.js";

describe("meanRecall", () => {
  it("averages the share of true neighbours found per query", () => {
    const truth = [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ];
    const found = [
      [1, 2, 9, 10], // 2 of 4
      [8, 7, 6, 5], // order does not matter: 4 of 4
    ];
    expect(meanRecall(found, truth, 4)).toBeCloseTo(0.75);
  });

  it("only counts the first k of each list", () => {
    expect(meanRecall([[9, 1]], [[1, 2]], 1)).toBe(0);
    expect(meanRecall([[1, 9]], [[1, 2]], 1)).toBe(1);
  });

  it("counts a short answer as missing neighbours", () => {
    expect(meanRecall([[1]], [[1, 2]], 2)).toBe(0.5);
  });

  it("refuses answers that do not line up with the queries", () => {
    expect(() => meanRecall([[1]], [[1], [2]], 1)).toThrow(/1 answers for 2 queries/);
  });
});

describe("qpsAtRecall", () => {
  const curve = [
    { ef: 10, recall: 0.8, qps: 1000 },
    { ef: 32, recall: 0.9, qps: 800 },
    { ef: 64, recall: 0.97, qps: 500 },
    { ef: 128, recall: 0.99, qps: 300 },
  ];

  it("interpolates QPS linearly between the two ef points around the target", () => {
    const r = qpsAtRecall(curve, 0.95);
    expect(r.method).toBe("interpolated");
    // 0.95 is 5/7 of the way from 0.90 to 0.97: 800 - 300 * 5/7.
    expect(r.qps).toBeCloseTo(800 - (300 * 5) / 7);
    expect(r.nearestEf).toBe(64);
    expect(r.nearestQps).toBe(500);
  });

  it("sorts by ef first, whatever order the points come in", () => {
    expect(qpsAtRecall([...curve].reverse(), 0.95).qps).toBeCloseTo(800 - (300 * 5) / 7);
  });

  it("takes the lowest ef as a lower bound when every point is above the target", () => {
    const r = qpsAtRecall(curve, 0.5);
    expect(r).toEqual({ qps: 1000, method: "lowest-ef", nearestEf: 10, nearestQps: 1000 });
  });

  it("says when the target is never reached", () => {
    expect(qpsAtRecall(curve, 0.999)).toEqual({
      qps: undefined,
      method: "unreached",
      nearestEf: undefined,
      nearestQps: undefined,
    });
  });

  it("uses the first ef that reaches the target when noise makes recall dip later", () => {
    const noisy = [
      { ef: 10, recall: 0.9, qps: 900 },
      { ef: 16, recall: 0.96, qps: 700 },
      { ef: 32, recall: 0.94, qps: 600 },
    ];
    const r = qpsAtRecall(noisy, 0.95);
    expect(r.nearestEf).toBe(16);
    expect(r.qps).toBeCloseTo(900 - (200 * 5) / 6);
  });
});

describe("heldOutIndices", () => {
  it("spreads the held-out rows evenly and deterministically", () => {
    expect(heldOutIndices(10, 2)).toEqual([2, 7]);
    expect(heldOutIndices(101_000, 1000)).toHaveLength(1000);
    expect(new Set(heldOutIndices(101_000, 1000)).size).toBe(1000);
  });

  it("refuses to hold out more rows than there are", () => {
    expect(() => heldOutIndices(3, 4)).toThrow(/cannot hold out 4 of 3/);
  });
});
