import { describe, expect, it } from "vitest";
import {
  type Bucket,
  histogramCount,
  histogramDelta,
  histogramQuantile,
  sumHistograms,
} from "../../../src/rollout/histogram.js";

const INF = Number.POSITIVE_INFINITY;
/** Cumulative buckets from [le, count] pairs. */
const h = (...pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

describe("histogramQuantile (as PromQL's histogram_quantile)", () => {
  it.each<[string, number, Bucket[], number | undefined]>([
    // 100 observations: 50 <= 0.1, 90 <= 0.2, 99 <= 0.4, 100 <= 0.8
    [
      "the median, inside the first bucket",
      0.5,
      h([0.1, 50], [0.2, 90], [0.4, 99], [0.8, 100], [INF, 100]),
      0.1,
    ],
    ["p90 at a bucket boundary", 0.9, h([0.1, 50], [0.2, 90], [0.4, 99], [0.8, 100], [INF, 100]), 0.2],
    [
      "p95, interpolated inside (0.2, 0.4]",
      0.95,
      h([0.1, 50], [0.2, 90], [0.4, 99], [0.8, 100], [INF, 100]),
      0.2 + 0.2 * (5 / 9),
    ],
    ["p99 at the top of (0.2, 0.4]", 0.99, h([0.1, 50], [0.2, 90], [0.4, 99], [0.8, 100], [INF, 100]), 0.4],
    ["p25 from 0 in the first bucket", 0.25, h([0.1, 50], [INF, 50]), 0.025],
    ["the rank in the +Inf bucket: the highest finite bound", 0.99, h([0.1, 10], [0.5, 20], [INF, 100]), 0.5],
    ["a first bucket with a bound <= 0: that bound", 0.5, h([0, 10], [1, 20], [INF, 20]), 0],
    ["no observations: undefined (NaN in PromQL)", 0.99, h([0.1, 0], [INF, 0]), undefined],
    ["no +Inf bucket: undefined", 0.99, h([0.1, 5], [0.2, 10]), undefined],
    ["a single bucket: undefined", 0.5, h([INF, 10]), undefined],
    ["an empty histogram: undefined", 0.5, [], undefined],
    ["buckets out of order: sorted first", 0.5, h([INF, 100], [0.2, 100], [0.1, 0]), 0.15],
    [
      "non-monotonic counts (scrape race): made monotonic",
      0.5,
      h([0.1, 60], [0.2, 50], [INF, 100]),
      0.1 * (50 / 60),
    ],
  ])("when %s (q=%s)", (_when, q, buckets, expected) => {
    const got = histogramQuantile(q, buckets);
    if (expected === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(expected, 10);
  });

  it("when q is outside [0, 1], then it throws", () => {
    expect(() => histogramQuantile(1.5, h([1, 1], [INF, 1]))).toThrow(RangeError);
  });
});

describe("histogramDelta", () => {
  const before = h([0.1, 10], [0.5, 15], [INF, 20]);

  it("when the histogram grew, then the delta is the per-bucket increase", () => {
    expect(histogramDelta(before, h([0.1, 12], [0.5, 20], [INF, 30]))).toEqual(
      h([0.1, 2], [0.5, 5], [INF, 10]),
    );
  });

  it("when a count went down (the process restarted), then everything after counts as new", () => {
    const after = h([0.1, 1], [0.5, 2], [INF, 3]);
    expect(histogramDelta(before, after)).toEqual(after);
  });

  it("when there is no earlier scrape (a new series), then everything counts", () => {
    expect(histogramDelta(undefined, before)).toEqual(before);
  });

  it("when the bucket layout changed, then it counts as a reset", () => {
    const after = h([0.2, 30], [INF, 40]);
    expect(histogramDelta(before, after)).toEqual(after);
  });

  it("when nothing happened, then the delta is empty and has no quantile", () => {
    const delta = histogramDelta(before, before);
    expect(histogramCount(delta)).toBe(0);
    expect(histogramQuantile(0.99, delta)).toBeUndefined();
  });
});

describe("sumHistograms", () => {
  it("when two pods' histograms are summed, then counts add per bound", () => {
    expect(sumHistograms([h([0.1, 1], [INF, 2]), h([INF, 3], [0.1, 3])])).toEqual(h([0.1, 4], [INF, 5]));
  });
});
