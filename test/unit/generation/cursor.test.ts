import { describe, expect, it } from "vitest";
import {
  cursorAfter,
  groupByShard,
  recordMismatch,
  type ScanPage,
  startRecord,
} from "../../../src/generation/cursor.js";
import { addPoint, rateOf } from "../../../src/generation/rate-window.js";
import { shardForId } from "../../../src/router/shard-hash.js";

const page = (seqs: number[], lastSeq: number, done: boolean): ScanPage => ({
  items: seqs.map((seq) => ({ id: `d${seq}`, seq, metadata: null, text: "t" })),
  nextAfterSeq: seqs.at(-1) ?? 0,
  lastSeq,
  done,
});

describe("cursorAfter", () => {
  it.each([
    ["a full page", page([3, 4, 5], 9, false), 5],
    ["a short page: deletes took the seqs after it", page([3, 4], 9, true), 9],
    ["an empty page past deletes", { ...page([], 12, true), nextAfterSeq: 7 }, 12],
    ["an empty page on an empty shard", page([], 0, true), 0],
  ] as const)("when the scan returned %s, then the cursor is %i", (_what, p, want) => {
    expect(cursorAfter(p)).toBe(want);
  });
});

describe("groupByShard", () => {
  it("when ids are grouped for 3 shards, then each lands on the router's shard and none is lost", () => {
    const points = Array.from({ length: 50 }, (_, i) => ({ id: `wn-${i}` }));
    const groups = groupByShard(points, 3);
    let n = 0;
    for (const [s, list] of groups) {
      for (const p of list) expect(shardForId(p.id, 3)).toBe(s);
      n += list.length;
    }
    expect(n).toBe(50);
    expect(groups.size).toBe(3);
  });
});

describe("startRecord and recordMismatch", () => {
  const now = "2026-01-01T00:00:00.000Z";
  it("when there is no record, then all cursors start at 0", () => {
    const r = startRecord(undefined, "g-a", "g-b", ["s0", "s1"], 10, now);
    expect(r).toMatchObject({
      cursor: { s0: 0, s1: 0 },
      done: 0,
      total: 10,
      finished: false,
      startedAt: now,
    });
  });
  it("when a record exists, then its cursor and counts carry on and it is not finished", () => {
    const stored = {
      ...startRecord(undefined, "g-a", "g-b", ["s0"], 10, "x"),
      cursor: { s0: 42 },
      done: 7,
      finished: true,
    };
    const r = startRecord(stored, "g-a", "g-b", ["s0", "s1"], 12, now);
    expect(r).toMatchObject({
      cursor: { s0: 42, s1: 0 },
      done: 7,
      total: 12,
      finished: false,
      startedAt: "x",
    });
  });
  it("when the record is for another pair, then the message names both", () => {
    const stored = startRecord(undefined, "g-old", "g-b", ["s0"], 1, now);
    expect(recordMismatch(stored, "g-a", "g-b")).toMatch(/g-old -> g-b.*g-a -> g-b/);
    expect(recordMismatch(stored, "g-old", "g-b")).toBeUndefined();
  });
});

describe("rate window", () => {
  it.each([
    ["no points", [], 0],
    ["one point", [{ at: 0, count: 0 }], 0],
    [
      "steady 50/s",
      [
        { at: 0, count: 0 },
        { at: 1000, count: 50 },
        { at: 2000, count: 100 },
      ],
      50,
    ],
  ] as const)("when there are %s, then the rate is %f/s", (_w, points, want) => {
    expect(rateOf(points)).toBe(want);
  });
  it("when points age out of the window, then the rate follows the recent ones", () => {
    let pts = [{ at: 0, count: 0 }];
    for (let t = 1000; t <= 20_000; t += 1000)
      pts = addPoint(pts, { at: t, count: t < 10_000 ? t / 10 : 1000 + (t - 10_000) });
    expect(rateOf(pts)).toBe(1000);
  });
});
