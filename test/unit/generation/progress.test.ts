import { describe, expect, it } from "vitest";
import {
  type BackfillRecord,
  etaSeconds,
  formatDuration,
  progressOf,
} from "../../../src/generation/progress.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const record = (over: Partial<BackfillRecord> = {}): BackfillRecord => ({
  from: "g-a",
  to: "g-b",
  cursor: {},
  done: 410,
  skippedExisting: 0,
  withoutText: 0,
  total: 1000,
  ratePerSecond: 5,
  etaSeconds: 180,
  startedAt: new Date(T0 - 60_000).toISOString(),
  updatedAt: new Date(T0).toISOString(),
  finished: false,
  ...over,
});

describe("progressOf", () => {
  const cases: [string, Partial<BackfillRecord>, number, { percent: number; eta: string; text: string }][] = [
    ["read when written", {}, 0, { percent: 41, eta: "ETA 3m", text: "BACKFILL 41% ETA 3m" }],
    ["read 30 s later", {}, 30_000, { percent: 41, eta: "ETA 3m", text: "BACKFILL 41% ETA 3m" }],
    [
      "an ETA under a minute",
      { etaSeconds: 44.2 },
      0,
      { percent: 41, eta: "ETA 45s", text: "BACKFILL 41% ETA 45s" },
    ],
    [
      "hours left",
      { etaSeconds: 2 * 3600 + 15 * 60 },
      0,
      { percent: 41, eta: "ETA 2h15m", text: "BACKFILL 41% ETA 2h15m" },
    ],
    [
      "no rate yet",
      { etaSeconds: null, done: 0 },
      0,
      { percent: 0, eta: "ETA ?", text: "BACKFILL 0% ETA ?" },
    ],
    [
      "no update for over a minute",
      {},
      61_000,
      { percent: 41, eta: "stalled", text: "BACKFILL 41% stalled" },
    ],
    [
      "more done than the stale total",
      { done: 1200 },
      0,
      { percent: 99, eta: "ETA 3m", text: "BACKFILL 99% ETA 3m" },
    ],
    ["an empty source", { done: 0, total: 0 }, 0, { percent: 0, eta: "ETA 3m", text: "BACKFILL 0% ETA 3m" }],
    [
      "documents without text counted as handled",
      { done: 400, withoutText: 100 },
      0,
      { percent: 50, eta: "ETA 3m", text: "BACKFILL 50% ETA 3m (100 without text)" },
    ],
    ["finished", { finished: true, done: 1000 }, 0, { percent: 100, eta: "done", text: "BACKFILL done" }],
    [
      "finished with documents without text",
      { finished: true, withoutText: 12 },
      0,
      { percent: 100, eta: "done", text: "BACKFILL done (12 without text)" },
    ],
  ];
  for (const [what, over, later, want] of cases) {
    it(`when the record is ${what}, then it shows "${want.text}"`, () => {
      expect(progressOf(record(over), T0 + later)).toEqual(want);
    });
  }
});

describe("formatDuration and etaSeconds", () => {
  it.each([
    [0, "0s"],
    [58.2, "59s"],
    [59.1, "1m"],
    [60, "1m"],
    [3599, "60m"],
    [3600, "1h"],
    [5400, "1h30m"],
  ])("when %f s are left, then it reads %s", (s, want) => {
    expect(formatDuration(s)).toBe(want);
  });
  it.each([
    [1000, 400, 10, 60],
    [1000, 1200, 10, 0],
    [1000, 400, 0, null],
  ])("when total %i, handled %i at %f/s, then the ETA is %s s", (total, handled, rate, want) => {
    expect(etaSeconds(total, handled, rate)).toBe(want);
  });
});
