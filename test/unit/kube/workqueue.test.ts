import { describe, expect, it } from "vitest";
import { WorkQueue } from "../../../src/kube/workqueue.js";
import { FakeClock } from "./fake-clock.js";

function setup() {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock });
  return { clock, queue };
}

/** Takes every key that is ready now without blocking, marking each as processing. */
async function takeReady(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.length > 0) {
    const key = await queue.get();
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

describe("workqueue de-duplication", () => {
  it("when a key is added three times while queued, then it is one item", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    expect(queue.length).toBe(2);
    expect(await takeReady(queue)).toEqual(["ns/a", "ns/b"]);
  });

  it("when a key is re-added while processing, then it is not handed out until done, then once more", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    const first = await queue.get();
    queue.add("ns/a");
    queue.add("ns/a");
    expect(queue.length).toBe(0); // a second worker must not get it concurrently
    queue.done(first as string);
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe("ns/a");
  });

  it("when a worker is already waiting, then an added key goes straight to it", async () => {
    const { queue } = setup();
    const pending = queue.get();
    queue.add("ns/a");
    expect(await pending).toBe("ns/a");
    queue.add("ns/a");
    expect(queue.length).toBe(0);
  });
});

describe("workqueue backoff", () => {
  it("when a key keeps failing, then its delay doubles from 1 s and is capped at 30 s", () => {
    const { queue } = setup();
    const delays = Array.from({ length: 8 }, () => queue.addRateLimited("ns/a"));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("when a key succeeds after failures, then forget resets its next delay to the base", () => {
    const { queue } = setup();
    queue.addRateLimited("ns/a");
    queue.addRateLimited("ns/a");
    queue.forget("ns/a");
    expect(queue.failuresOf("ns/a")).toBe(0);
    expect(queue.addRateLimited("ns/a")).toBe(1000);
  });

  it("when one key fails, then another key's backoff is unaffected", () => {
    const { queue } = setup();
    queue.addRateLimited("ns/a");
    queue.addRateLimited("ns/a");
    expect(queue.addRateLimited("ns/b")).toBe(1000);
  });

  it("when a failed key's delay has not passed, then it is not ready; after it, it is", () => {
    const { clock, queue } = setup();
    queue.addRateLimited("ns/a");
    queue.addRateLimited("ns/a"); // second failure: 2 s, but the 1 s deadline is earlier and wins
    clock.advance(999);
    expect(queue.length).toBe(0);
    clock.advance(1);
    expect(queue.length).toBe(1);
  });

  it("when custom bounds are given, then they are used", () => {
    const queue = new WorkQueue({ clock: new FakeClock(), baseDelayMs: 5, maxDelayMs: 12 });
    expect([1, 2, 3].map(() => queue.addRateLimited("k"))).toEqual([5, 10, 12]);
  });

  it("when bounds are inverted, then construction fails naming both", () => {
    expect(() => new WorkQueue({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(
      /baseDelayMs <= maxDelayMs, got 10 and 5/,
    );
  });
});

describe("workqueue addAfter", () => {
  it("when a key is scheduled twice, then the earlier deadline wins and it is added once", () => {
    const { clock, queue } = setup();
    queue.addAfter("ns/a", 10_000);
    queue.addAfter("ns/a", 3_000);
    queue.addAfter("ns/a", 60_000);
    expect(queue.delayed).toBe(1);
    clock.advance(3_000);
    expect(queue.length).toBe(1);
    clock.advance(60_000);
    expect(queue.length).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it("when the delay is zero, then the key is ready at once", () => {
    const { queue } = setup();
    queue.addAfter("ns/a", 0);
    expect(queue.length).toBe(1);
  });
});

describe("workqueue shutdown", () => {
  it("when shut down with drain, then queued keys are still handed out, then get returns undefined", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    queue.add("ns/b");
    queue.shutDown();
    queue.add("ns/c");
    expect(await queue.get()).toBe("ns/a");
    expect(await queue.get()).toBe("ns/b");
    expect(await queue.get()).toBeUndefined();
  });

  it("when shut down without drain, then queued and re-added keys are dropped", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    const key = await queue.get();
    queue.add("ns/a");
    queue.add("ns/b");
    queue.shutDown({ drain: false });
    queue.done(key as string);
    expect(queue.length).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it("when workers are blocked in get, then shutdown releases them with undefined", async () => {
    const { queue } = setup();
    const blocked = [queue.get(), queue.get()];
    queue.shutDown();
    expect(await Promise.all(blocked)).toEqual([undefined, undefined]);
  });

  it("when shut down, then delayed keys are cancelled and never become ready", () => {
    const { clock, queue } = setup();
    queue.addAfter("ns/a", 1000);
    queue.addRateLimited("ns/b");
    queue.shutDown();
    clock.advance(60_000);
    expect(queue.length).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it("when a key is still processing, then whenIdle resolves only after done", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    const key = await queue.get();
    queue.shutDown();
    let idle = false;
    const idlePromise = queue.whenIdle().then(() => {
      idle = true;
    });
    await Promise.resolve();
    expect(idle).toBe(false);
    queue.done(key as string);
    await idlePromise;
    expect(idle).toBe(true);
  });
});
