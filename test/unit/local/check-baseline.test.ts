import { describe, expect, it } from "vitest";
import { CheckBaseline } from "../../../src/local/check-baseline.js";

const never = () => Promise.reject(new Error("no scrape expected"));

describe("CheckBaseline", () => {
  it("when a window begins with this tick's scrape, then that scrape is its baseline until the next window", () => {
    const b = new CheckBaseline<number>();
    b.roll(true, "t1", 10, never, () => "t1");
    b.roll(true, "t1", 99, never, () => "t1");
    expect(b.of("t1")).toBe(10);
    expect(b.of("t2")).toBeUndefined();
    b.roll(true, "t2", 20, never, () => "t2");
    expect(b.of("t2")).toBe(20);
  });

  it("when outside a window, then it forgets", () => {
    const b = new CheckBaseline<number>();
    b.roll(true, "t1", 10, never, () => "t1");
    b.roll(false, undefined, undefined, never, () => undefined);
    expect(b.of("t1")).toBeUndefined();
  });

  it("when the tick had no scrape, then one is taken and kept only if the window did not move meanwhile", async () => {
    const b = new CheckBaseline<number>();
    let window = "t1";
    b.roll(
      true,
      "t1",
      undefined,
      () => Promise.resolve(7),
      () => window,
    );
    await Promise.resolve();
    await Promise.resolve();
    expect(b.of("t1")).toBe(7);
    window = "t3";
    b.roll(
      true,
      "t2",
      undefined,
      () => Promise.resolve(8),
      () => window,
    );
    await Promise.resolve();
    await Promise.resolve();
    expect(b.of("t2")).toBeUndefined();
  });
});
