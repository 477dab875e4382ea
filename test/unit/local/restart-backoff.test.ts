import { describe, expect, it } from "vitest";
import { afterCrash, type RestartPolicy } from "../../../src/local/restart-backoff.js";

const policy: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 1000, healthyAfterMs: 5000 };

describe("afterCrash", () => {
  it("when a child crash-loops, then the delay doubles up to the cap", () => {
    let history = { consecutive: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = afterCrash(history, 10, policy);
      delays.push(next.delayMs);
      history = next.history;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it("when a child ran longer than healthyAfterMs before crashing, then it restarts after the initial delay", () => {
    const next = afterCrash({ consecutive: 5 }, 6000, policy);
    expect(next).toEqual({ delayMs: 100, history: { consecutive: 1 } });
  });
});
