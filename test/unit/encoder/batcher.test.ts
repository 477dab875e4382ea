// The batcher shell with a stand-in for engine.run: these tests are about queueing and delivery,
// not about vectors (the data-plane tests run the real model).
import { describe, expect, it } from "vitest";
import { Batcher } from "../../../src/encoder/batcher.js";

function recordingRun() {
  const batches: number[][] = [];
  const run = async (rows: readonly (readonly number[])[]) => {
    batches.push(rows.map((r) => r[0]!));
    // Each "vector" carries its row's first id, so delivery order is checkable.
    return rows.map((r) => Float32Array.of(r[0]!));
  };
  return { batches, run };
}

const row = (id: number, len = 4) => [id, ...Array<number>(len - 1).fill(0)];

describe("Batcher", () => {
  it("when requests arrive together, then they share batches within the limits and each gets its own rows", async () => {
    const { batches, run } = recordingRun();
    const b = new Batcher({ run }, { maxBatchTokens: 1000, maxBatchRequests: 3 });
    const [a, c] = await Promise.all([b.submit([row(1), row(2)]), b.submit([row(3), row(4), row(5)])]);
    expect(Array.from(a!, (v) => v[0])).toEqual([1, 2]);
    expect(Array.from(c!, (v) => v[0])).toEqual([3, 4, 5]);
    expect(batches.map((x) => x.length)).toEqual([3, 2]);
  });

  it("when a request's inputs are split across batches, then it resolves only once all are done", async () => {
    const { batches, run } = recordingRun();
    const b = new Batcher({ run }, { maxBatchTokens: 8, maxBatchRequests: 32 });
    const out = await b.submit([row(1), row(2), row(3), row(4), row(5)]);
    expect(Array.from(out, (v) => v[0])).toEqual([1, 2, 3, 4, 5]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("when the engine fails, then every request in that batch is rejected and later ones still run", async () => {
    let calls = 0;
    const b = new Batcher(
      {
        run: async (rows) => {
          if (calls++ === 0) throw new Error("boom");
          return rows.map(() => new Float32Array(1));
        },
      },
      { maxBatchTokens: 1000, maxBatchRequests: 1 },
    );
    const first = b.submit([row(1)]);
    const second = b.submit([row(2)]);
    await expect(first).rejects.toThrow("boom");
    await expect(second).resolves.toHaveLength(1);
  });

  it("when work is queued, then idle() waits for it and reports depth zero after", async () => {
    const { run } = recordingRun();
    const depths: number[] = [];
    const b = new Batcher(
      { run },
      { maxBatchTokens: 1000, maxBatchRequests: 1 },
      {
        batchDone: () => {},
        queueDepth: (d) => depths.push(d),
      },
    );
    let done = 0;
    for (let i = 0; i < 4; i++) void b.submit([row(i)]).then(() => done++);
    expect(b.depth).toBe(4);
    await b.idle();
    expect(done).toBe(4);
    expect(b.depth).toBe(0);
    expect(depths.at(-1)).toBe(0);
  });

  it("when a request is aborted while queued, then it is rejected and its inputs never reach the engine", async () => {
    const { batches, run } = recordingRun();
    const b = new Batcher({ run }, { maxBatchTokens: 1000, maxBatchRequests: 1 });
    const first = b.submit([row(1)]);
    const controller = new AbortController();
    const second = b.submit([row(2), row(3)], controller.signal);
    controller.abort(new Error("client gone"));
    await expect(second).rejects.toThrow("client gone");
    await first;
    await b.idle();
    expect(batches).toEqual([[1]]);
  });
  it("when a full batch queues while one runs, then it goes to the engine at once and a partial one waits", async () => {
    const calls: number[][] = [];
    const releases: (() => void)[] = [];
    const run = (rows: readonly (readonly number[])[]) => {
      calls.push(rows.map((r) => r[0]!));
      return new Promise<Float32Array[]>((resolve) => {
        releases.push(() => resolve(rows.map((r) => Float32Array.of(r[0]!))));
      });
    };
    const seconds: number[] = [];
    const b = new Batcher(
      { run },
      { maxBatchTokens: 1000, maxBatchRequests: 2 },
      { batchDone: (d) => seconds.push(d.seconds), queueDepth: () => {} },
    );
    const first = b.submit([row(1)]);
    // The first batch starts on a later turn of the event loop: how many turns is the machine's
    // business (one is not enough under load); a batch that never comes times the test out.
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(calls).toEqual([[1]]);
    const full = b.submit([row(2), row(3)]);
    expect(calls).toEqual([[1], [2, 3]]);
    const partial = b.submit([row(4)]);
    const alsoFull = b.submit([row(5), row(6)]);
    // Two batches are already with the engine: the third waits even though a full one is queued.
    expect(calls).toHaveLength(2);
    releases[0]!();
    await first;
    while (calls.length < 3) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(calls).toEqual([[1], [2, 3], [4, 5]]);
    // Release each later batch once the batcher has handed it to the engine (however many turns
    // of the event loop that takes on a loaded machine); a batch that never comes times the test out.
    for (let i = 1; i < 4; i++) {
      while (releases[i] === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
      releases[i]!();
    }
    expect(Array.from(await full, (v) => v[0])).toEqual([2, 3]);
    expect(Array.from(await partial, (v) => v[0])).toEqual([4]);
    expect(Array.from(await alsoFull, (v) => v[0])).toEqual([5, 6]);
    await b.idle();
    expect(calls).toEqual([[1], [2, 3], [4, 5], [6]]);
    expect(seconds).toHaveLength(4);
  });
});
