// The load generators' bookkeeping, with operations that take no real time: counts and order only,
// never a duration.
import { describe, expect, it } from "vitest";
import { closedLoop, idealBatcherLoop } from "../../../bench/lib/timing.js";

describe("closedLoop", () => {
  it("runs warm-up then exactly maxOps measured operations with distinct sequence numbers", async () => {
    const seen: number[] = [];
    const r = await closedLoop({ concurrency: 4, maxOps: 20, maxSeconds: 60, warmupOps: 5 }, async (seq) => {
      seen.push(seq);
    });
    expect(r.ops).toBe(20);
    expect(r.latenciesMs).toHaveLength(20);
    expect(new Set(seen).size).toBe(25);
    expect(Math.max(...seen)).toBe(24);
  });
  it("counts errors apart from completed operations and keeps the first message", async () => {
    const r = await closedLoop({ concurrency: 2, maxOps: 10, maxSeconds: 60 }, async (seq) => {
      if (seq % 2 === 1) throw new Error(`boom ${seq}`);
    });
    expect(r.ops + r.errors).toBe(10);
    expect(r.errors).toBe(5);
    expect(r.firstError).toMatch(/^boom \d+$/);
  });
});

describe("idealBatcherLoop", () => {
  it("hands out batches no larger than min(batch, concurrency) with consecutive items", async () => {
    const calls: [number, number][] = [];
    const r = await idealBatcherLoop(
      { concurrency: 8, batch: 32, maxOps: 40, maxSeconds: 60 },
      async (first, n) => {
        calls.push([first, n]);
      },
    );
    expect(calls.every(([, n]) => n === 8)).toBe(true);
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBe(calls[i - 1]![0] + calls[i - 1]![1]);
    expect(r.ops).toBe(40);
  });
  it("records one latency per item", async () => {
    const r = await idealBatcherLoop(
      { concurrency: 64, batch: 16, maxOps: 64, maxSeconds: 60 },
      async () => {},
    );
    expect(r.latenciesMs).toHaveLength(64);
    expect(r.ops).toBe(64);
  });
});
