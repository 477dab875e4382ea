import { describe, expect, it } from "vitest";
import { formatDuration, formatProgress } from "../../../src/local/progress.js";

describe("formatProgress", () => {
  it("when half the documents are done in 10 s, then the bar is half full, the rate 50/s and the ETA 10s", () => {
    const line = formatProgress({ done: 500, total: 1000, elapsedMs: 10_000 }, 10);
    expect(line).toBe("[#####.....] 500/1,000  50%  50 docs/s  ETA 10s");
  });
  it("when everything is done, then the bar is full and the ETA 0s", () => {
    expect(formatProgress({ done: 7, total: 7, elapsedMs: 1000 }, 4)).toBe(
      "[####] 7/7 100%  7 docs/s  ETA 0s",
    );
  });
  it("when nothing is done yet, then the ETA is unknown", () => {
    expect(formatProgress({ done: 0, total: 10, elapsedMs: 0 }, 4)).toContain("ETA --");
  });
});

describe("formatDuration", () => {
  it.each([
    [5, "5s"],
    [65, "1m05s"],
    [3725, "1h02m"],
    [Number.NaN, "--"],
  ])("when %s seconds, then %s", (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});
