import { describe, expect, it } from "vitest";
import { aimdStep } from "../../../src/generation/aimd-guard.js";
import { createBucket, take, withRate } from "../../../src/generation/token-bucket.js";

describe("token bucket", () => {
  it("when batches are taken back to back, then the waits hold the rate from the first document", () => {
    let b = createBucket(100, 64, 0);
    let now = 0;
    let sent = 0;
    for (let i = 0; i < 8; i++) {
      const t = take(b, 64, now);
      b = t.bucket;
      now += t.waitMs;
      sent += 64;
      expect(sent / (now / 1000)).toBeLessThanOrEqual(100 + 1e-9);
    }
    expect(now).toBeCloseTo(5120, 6);
  });

  const cases: [string, { rate: number; burst: number; idleMs: number; n: number }, number][] = [
    ["an empty bucket", { rate: 10, burst: 10, idleMs: 0, n: 5 }, 500],
    ["a bucket refilled by idling", { rate: 10, burst: 10, idleMs: 1000, n: 5 }, 0],
    ["a bucket whose idle time exceeds the burst", { rate: 10, burst: 10, idleMs: 60_000, n: 15 }, 500],
    ["a batch larger than the burst", { rate: 1, burst: 1, idleMs: 0, n: 64 }, 64_000],
  ];
  for (const [what, c, wait] of cases) {
    it(`when taking ${c.n} from ${what}, then the wait is ${wait} ms`, () => {
      expect(take(createBucket(c.rate, c.burst, 0), c.n, c.idleMs).waitMs).toBeCloseTo(wait, 6);
    });
  }

  it("when the rate changes, then the debt is paid at the new rate", () => {
    const t = take(createBucket(100, 64, 0), 50, 0); // 500 ms of debt at 100/s
    expect(take(withRate(t.bucket, 10, 0), 0, 0).waitMs).toBeCloseTo(5000, 6);
  });

  it("when the rate is not positive, then it throws", () => {
    expect(() => createBucket(0, 1, 0)).toThrow(RangeError);
  });
});

describe("AIMD guard", () => {
  const cases: [
    string,
    { rate: number; cap: number; p99: number | undefined; slo: number },
    { rate: number; action: string },
  ][] = [
    [
      "p99 above 80% of the SLO",
      { rate: 100, cap: 100, p99: 81, slo: 100 },
      { rate: 50, action: "decrease" },
    ],
    ["p99 at exactly 80%", { rate: 50, cap: 100, p99: 80, slo: 100 }, { rate: 60, action: "increase" }],
    [
      "p99 far above, already at the floor",
      { rate: 1, cap: 100, p99: 900, slo: 100 },
      { rate: 1, action: "hold" },
    ],
    [
      "p99 above near the floor",
      { rate: 1.5, cap: 100, p99: 900, slo: 100 },
      { rate: 1, action: "decrease" },
    ],
    ["calm, near the cap", { rate: 95, cap: 100, p99: 10, slo: 100 }, { rate: 100, action: "increase" }],
    ["calm, at the cap", { rate: 100, cap: 100, p99: 10, slo: 100 }, { rate: 100, action: "hold" }],
    [
      "no stable traffic in the window",
      { rate: 20, cap: 100, p99: undefined, slo: 100 },
      { rate: 30, action: "increase" },
    ],
    ["a cap below the floor", { rate: 0.5, cap: 0.5, p99: 900, slo: 100 }, { rate: 0.5, action: "hold" }],
  ];
  for (const [what, c, want] of cases) {
    it(`when ${what}, then the rate goes ${c.rate} -> ${want.rate} (${want.action})`, () => {
      expect(aimdStep(c.rate, c.cap, c.p99, c.slo)).toMatchObject(want);
    });
  }

  it("when the risk passes, then the rate recovers to the cap in ten calm windows from the floor", () => {
    let rate = 100;
    for (let i = 0; i < 8; i++) rate = aimdStep(rate, 100, 500, 100).rate;
    expect(rate).toBe(1);
    for (let i = 0; i < 10; i++) rate = aimdStep(rate, 100, 10, 100).rate;
    expect(rate).toBe(100);
  });
});
