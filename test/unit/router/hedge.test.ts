import { describe, expect, it } from "vitest";
import { type HedgeInput, type HedgePolicy, hedgeDelayMs } from "../../../src/router/hedge.js";
import { LatencyWindow } from "../../../src/router/latency-window.js";

const policy: HedgePolicy = { enabled: true, minDelayMs: 2, minSamples: 20 };
const input: HedgeInput = { p95Ms: 8, samples: 50, otherLiveReplicas: 1, remainingMs: 2000 };

describe("hedgeDelayMs", () => {
  it.each([
    { name: "the shard's p95 is known", policy, input, want: 8 },
    { name: "the p95 is below the floor", policy, input: { ...input, p95Ms: 0.5 }, want: 2 },
    { name: "hedging is disabled", policy: { ...policy, enabled: false }, input, want: undefined },
    { name: "no other replica is live", policy, input: { ...input, otherLiveReplicas: 0 }, want: undefined },
    { name: "too few samples", policy, input: { ...input, samples: 19 }, want: undefined },
    { name: "no p95 yet", policy, input: { ...input, p95Ms: undefined }, want: undefined },
    { name: "the deadline comes first", policy, input: { ...input, remainingMs: 8 }, want: undefined },
  ])("when $name, then the delay is $want", ({ policy: p, input: i, want }) => {
    expect(hedgeDelayMs(p, i)).toBe(want);
  });
});

describe("LatencyWindow", () => {
  it("when 100 samples 1..100 are recorded, then p95 is 95 and p50 is 50", () => {
    const w = new LatencyWindow(128);
    for (let i = 1; i <= 100; i++) w.record(i);
    expect(w.quantile(0.95)).toBe(95);
    expect(w.quantile(0.5)).toBe(50);
    expect(w.size).toBe(100);
  });

  it("when more samples than capacity arrive, then only the newest count", () => {
    const w = new LatencyWindow(10);
    for (let i = 0; i < 10; i++) w.record(1000);
    for (let i = 0; i < 10; i++) w.record(1);
    expect(w.quantile(0.95)).toBe(1);
    expect(w.size).toBe(10);
  });

  it("when nothing was recorded, then the quantile is undefined", () => {
    expect(new LatencyWindow().quantile(0.95)).toBeUndefined();
  });

  it("when a sample is negative or not finite, then it is ignored", () => {
    const w = new LatencyWindow();
    w.record(-1);
    w.record(Number.NaN);
    expect(w.size).toBe(0);
  });
});
