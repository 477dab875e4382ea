import { describe, expect, it } from "vitest";
import {
  formatNumber,
  formatRatio,
  quantileSorted,
  ratioVerdict,
  summarizeLatencies,
} from "../../../bench/lib/stats.js";

describe("quantileSorted", () => {
  it("interpolates between closest ranks like numpy's default", () => {
    const xs = [1, 2, 3, 4];
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 1)).toBe(4);
    expect(quantileSorted(xs, 0.5)).toBe(2.5);
    expect(quantileSorted(xs, 0.99)).toBeCloseTo(3.97, 10);
  });
  it("returns the only value for one sample and NaN for none", () => {
    expect(quantileSorted([7], 0.95)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });
  it("rejects a quantile outside [0, 1]", () => {
    expect(() => quantileSorted([1], 1.5)).toThrow(RangeError);
  });
});

describe("summarizeLatencies", () => {
  it("sorts numerically, not as strings", () => {
    const s = summarizeLatencies([100, 9, 20, 3]);
    expect(s.maxMs).toBe(100);
    expect(s.p50Ms).toBe(14.5);
    expect(s.count).toBe(4);
    expect(s.meanMs).toBe(33);
  });
  it("gives NaN statistics for no samples", () => {
    const s = summarizeLatencies([]);
    expect(s.count).toBe(0);
    expect(s.p99Ms).toBeNaN();
    expect(s.meanMs).toBeNaN();
  });
  it("p50 ≤ p95 ≤ p99 ≤ max on a skewed sample", () => {
    const xs = Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 50 : 1 + (i % 7)));
    const s = summarizeLatencies(xs);
    expect(s.p50Ms).toBeLessThanOrEqual(s.p95Ms);
    expect(s.p95Ms).toBeLessThanOrEqual(s.p99Ms);
    expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
  });
});

describe("ratioVerdict", () => {
  it("meets a target at equality and misses below", () => {
    expect(ratioVerdict(90, 100, 0.9)).toMatchObject({ met: true, text: "0.90 (target ≥ 0.90): met" });
    expect(ratioVerdict(89, 100, 0.9)).toMatchObject({ met: false, text: "0.89 (target ≥ 0.90): missed" });
  });
  it("says 'not measured' when a side is missing or zero", () => {
    expect(ratioVerdict(10, undefined, 1)).toMatchObject({
      met: false,
      text: "n/a (target ≥ 1.00): not measured",
    });
    expect(ratioVerdict(10, 0, 1).met).toBe(false);
    expect(ratioVerdict(Number.NaN, 5, 1).ratio).toBeNaN();
  });
});

describe("formatting", () => {
  it("formats ratios with precision that shrinks as they grow", () => {
    expect(formatRatio(1.234)).toBe("1.23");
    expect(formatRatio(12.34)).toBe("12.3");
    expect(formatRatio(123.4)).toBe("123");
    expect(formatRatio(Number.POSITIVE_INFINITY)).toBe("n/a");
  });
  it("formats table numbers to about 3 significant digits", () => {
    expect(formatNumber(1234.5)).toBe("1235");
    expect(formatNumber(123.45)).toBe("123");
    expect(formatNumber(12.345)).toBe("12.3");
    expect(formatNumber(1.2345)).toBe("1.23");
    expect(formatNumber(undefined)).toBe("–");
  });
});
