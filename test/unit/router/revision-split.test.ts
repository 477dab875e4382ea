import { describe, expect, it } from "vitest";
import { candidateCalls, toCandidate, WeightedSplit } from "../../../src/router/revision-split.js";

describe("toCandidate", () => {
  it.each([
    { weight: 0, calls: 1000, want: 0 },
    { weight: 1, calls: 1000, want: 10 },
    { weight: 5, calls: 1000, want: 50 },
    { weight: 10, calls: 1000, want: 100 },
    { weight: 25, calls: 1000, want: 250 },
    { weight: 33, calls: 1000, want: 330 },
    { weight: 50, calls: 1000, want: 500 },
    { weight: 99, calls: 1000, want: 990 },
    { weight: 100, calls: 1000, want: 1000 },
    { weight: 10, calls: 7, want: 0 },
    { weight: 10, calls: 15, want: 1 },
    { weight: 33, calls: 10, want: 3 },
  ])(
    "when $calls calls are split at $weight %, then exactly $want go to the candidate",
    ({ weight, calls, want }) => {
      expect(candidateCalls(calls, weight)).toBe(want);
    },
  );

  it("when the weight is 10, then the candidate gets calls 9, 19, 29, … (evenly spread, never in bursts)", () => {
    const picks = Array.from({ length: 100 }, (_, n) => n).filter((n) => toCandidate(n, 10));
    expect(picks).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
  });

  it.each([1, 7, 10, 33, 50, 90])(
    "when any window of consecutive calls is taken at %i %%, then its candidate count is within 1 of the weight's share",
    (weight) => {
      for (const start of [0, 1, 37, 99, 123]) {
        for (const count of [1, 10, 57, 100, 333, 1000]) {
          const got = candidateCalls(count, weight, start);
          expect(Math.abs(got - (count * weight) / 100)).toBeLessThan(1);
        }
      }
    },
  );

  it("when a window is a whole number of 100 calls, then its count is exact wherever it starts", () => {
    for (const start of [0, 13, 99, 1234]) expect(candidateCalls(300, 10, start)).toBe(30);
  });

  it.each([-1, 101, 10.5, Number.NaN])("when the weight is %s, then it is refused", (weight) => {
    expect(() => toCandidate(0, weight)).toThrow(/weight must be an integer 0-100/);
  });
});

describe("WeightedSplit", () => {
  it("when next() is called 1,000 times at 10 %, then 100 calls go to the candidate", () => {
    const split = new WeightedSplit(10);
    let n = 0;
    for (let i = 0; i < 1000; i++) if (split.next()) n++;
    expect(n).toBe(100);
    expect(split.position).toBe(0);
  });

  it("when a split is continued from a position, then it goes on where the old one stopped", () => {
    const a = new WeightedSplit(10);
    for (let i = 0; i < 42; i++) a.next();
    const b = new WeightedSplit(10, a.position);
    const rest = Array.from({ length: 58 }, () => b.next()).filter(Boolean).length;
    // 42 calls held 4 candidate calls (9, 19, 29, 39); the 100-call period completes with 6 more.
    expect(rest).toBe(6);
  });

  it("when the weight is out of range, then the split is refused at construction", () => {
    expect(() => new WeightedSplit(150)).toThrow(RangeError);
  });
});
