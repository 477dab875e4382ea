// Load generators shared by the benchmarks. Both are closed loops: a fixed number of callers, each
// sending its next operation when the previous one returned, so the offered load adapts to the
// system and the measured rate is its throughput at that concurrency (not an arrival rate it may
// fail to keep up with).

export interface LoadBounds {
  /** Callers in flight at once. */
  concurrency: number;
  /** Stop starting operations after this many (measured ones; warm-up not counted). */
  maxOps: number;
  /** ... or after this long, whichever comes first. */
  maxSeconds: number;
  /** Operations run (and discarded) before measuring, so JIT, pools and caches are warm. */
  warmupOps?: number;
  /** Stop starting warm-up operations after this long; default a quarter of maxSeconds. */
  warmupSeconds?: number;
}

export interface LoadResult {
  /** Operations that completed without error in the measured window. */
  ops: number;
  /** From the first measured start to the last completion. */
  seconds: number;
  /** One latency per completed operation, in milliseconds. */
  latenciesMs: number[];
  errors: number;
  firstError?: string;
}

const now = (): number => performance.now();

/** `concurrency` callers each awaiting `op(seq)` back to back; seq counts from 0 across callers. */
export async function closedLoop(
  bounds: LoadBounds,
  op: (seq: number) => Promise<void>,
): Promise<LoadResult> {
  let warm = bounds.warmupOps ?? 0;
  if (warm > 0) {
    // On a slow system a count alone could warm up for longer than the measurement itself.
    const warmDeadline = now() + (bounds.warmupSeconds ?? bounds.maxSeconds / 4) * 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(bounds.concurrency, warm) }, async () => {
        while (next < warm && now() < warmDeadline) await op(next++).catch(() => {});
      }),
    );
    warm = next;
  }
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const t0 = now();
  const deadline = t0 + bounds.maxSeconds * 1000;
  let last = t0;
  await Promise.all(
    Array.from({ length: bounds.concurrency }, async () => {
      while (started < bounds.maxOps && now() < deadline) {
        const seq = warm + started++;
        const s = now();
        try {
          await op(seq);
          const e = now();
          latenciesMs.push(e - s);
          last = Math.max(last, e);
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  return { ops: latenciesMs.length, seconds: (last - t0) / 1000, latenciesMs, errors, firstError };
}

/**
 * `concurrency` callers, each wanting one item at a time, served by an ideal in-process batcher: a
 * FIFO that hands the oldest `batch` waiting items to `runBatch` and re-queues that many fresh
 * callers when it returns. It has no HTTP, parsing or scheduling cost, so it is the ceiling any
 * server around the same engine can reach. Latency of an item = its wait in the FIFO + its batch.
 * `items` counts items (not batches) in `maxOps` and in the result.
 */
export async function idealBatcherLoop(
  bounds: LoadBounds & { batch: number },
  runBatch: (firstSeq: number, size: number) => Promise<void>,
): Promise<LoadResult> {
  const size = Math.max(1, Math.min(bounds.batch, bounds.concurrency));
  let seq = 0;
  const warmBatches = Math.ceil((bounds.warmupOps ?? 0) / size);
  for (let i = 0; i < warmBatches; i++) {
    await runBatch(seq, size);
    seq += size;
  }
  const latenciesMs: number[] = [];
  const t0 = now();
  const deadline = t0 + bounds.maxSeconds * 1000;
  // Submission times of the callers waiting, oldest first; all of them arrive at t0.
  let waiting: number[] = Array.from({ length: bounds.concurrency }, () => t0);
  let done = 0;
  let last = t0;
  while (done < bounds.maxOps && now() < deadline) {
    const n = Math.min(size, waiting.length);
    const taken = waiting.slice(0, n);
    waiting = waiting.slice(n);
    await runBatch(seq, n);
    seq += n;
    const e = now();
    last = e;
    for (const s of taken) latenciesMs.push(e - s);
    done += n;
    for (let i = 0; i < n; i++) waiting.push(e);
  }
  return { ops: latenciesMs.length, seconds: (last - t0) / 1000, latenciesMs, errors: 0 };
}
