// The queue and worker around planBatch: the thin shell. Requests submit their tokenized inputs;
// inputs of one request may land in different batches, and the request settles when all are done.
// One batch runs at a time; the next is planned from whatever queued while it ran, at the moment
// the engine frees up (no timer: an idle server runs a lone request at once, as TEI does).
import { type PlanLimits, paddedCost, passedOver, planBatch } from "./batch-plan.js";
import type { EncoderEngine } from "./engine-types.js";

/** Event-loop turns a forming batch waits for more inputs while the queue keeps growing. */
const SETTLE_TURNS = 4;

export interface BatcherLimits {
  maxBatchTokens: number;
  maxBatchRequests: number;
  /** Queue items considered for length grouping; default 4 × maxBatchRequests. */
  window?: number;
  /** How often an item may be overtaken before it joins the next batch that it fits; default 2. */
  maxPasses?: number;
}

export interface BatchObserver {
  batchDone(info: { inputs: number; paddedTokens: number; seconds: number }): void;
  queueDepth(depth: number): void;
}

interface Job {
  rows: Float32Array[];
  /** The client went away: its queued inputs are dropped instead of computed. */
  cancelled: boolean;
  remaining: number;
  settled: boolean;
  resolve(rows: Float32Array[]): void;
  reject(err: unknown): void;
}

interface Item {
  ids: readonly number[];
  tokens: number;
  passes: number;
  job: Job;
  index: number;
}

export class Batcher {
  private queue: Item[] = [];
  private running = false;
  private scheduled = false;
  /** Some queued job was cancelled since the last sweep. */
  private cancelled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly limits: PlanLimits;

  constructor(
    private readonly engine: Pick<EncoderEngine, "run">,
    limits: BatcherLimits,
    private readonly observer: BatchObserver = { batchDone: () => {}, queueDepth: () => {} },
  ) {
    this.limits = {
      maxBatchTokens: limits.maxBatchTokens,
      maxBatchRequests: limits.maxBatchRequests,
      window: limits.window ?? 4 * limits.maxBatchRequests,
      maxPasses: limits.maxPasses ?? 2,
    };
  }

  /** Queued inputs, not counting the batch that is running. */
  get depth(): number {
    return this.queue.length;
  }

  /** Embed the token rows of one request; resolves with one pooled vector per row, in order. */
  submit(rows: readonly (readonly number[])[], signal?: AbortSignal): Promise<Float32Array[]> {
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise<Float32Array[]>((resolve, reject) => {
      const job: Job = {
        rows: new Array(rows.length),
        cancelled: false,
        remaining: rows.length,
        settled: false,
        resolve,
        reject,
      };
      signal?.addEventListener(
        "abort",
        () => {
          job.cancelled = true;
          this.cancelled = true;
          this.fail(job, signal.reason);
        },
        { once: true },
      );
      for (let i = 0; i < rows.length; i++) {
        const ids = rows[i]!;
        this.queue.push({ ids, tokens: ids.length, passes: 0, job, index: i });
      }
      this.observer.queueDepth(this.queue.length);
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running (for a graceful shutdown). */
  idle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    let seen = -1;
    let turns = 0;
    // Event-loop turns, not a timer. When a batch finishes, requests sent meanwhile may still be
    // unread or half parsed (the engine's worker and this thread share the CPU); closing the batch
    // at once could run a handful of inputs while dozens are a turn away. So wait while the queue
    // still grows (at most SETTLE_TURNS turns) unless a full batch is already waiting. A lone
    // request on an idle server pays one turn: microseconds.
    const tick = () => {
      const depth = this.queue.length;
      if (depth !== seen && depth < this.limits.maxBatchRequests && turns++ < SETTLE_TURNS) {
        seen = depth;
        setImmediate(tick);
        return;
      }
      this.scheduled = false;
      this.runNext();
    };
    setImmediate(tick);
  }

  private runNext(): void {
    if (this.running) return;
    if (this.cancelled) {
      this.cancelled = false;
      this.queue = this.queue.filter((item) => !item.job.cancelled);
      this.observer.queueDepth(this.queue.length);
    }
    if (this.queue.length === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const chosen = planBatch(this.queue, this.limits);
    for (const i of passedOver(chosen, this.queue.length)) this.queue[i]!.passes++;
    const batch = chosen.map((i) => this.queue[i]!);
    this.removeChosen(chosen);
    this.observer.queueDepth(this.queue.length);

    this.running = true;
    const started = performance.now();
    const ids = batch.map((item) => item.ids);
    const finish = () => {
      this.running = false;
      this.observer.batchDone({
        inputs: batch.length,
        paddedTokens: paddedCost(ids.map((r) => r.length)),
        seconds: (performance.now() - started) / 1000,
      });
      this.schedule();
    };
    let pending: Promise<Float32Array[]>;
    try {
      pending = this.engine.run(ids);
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (vectors) => {
        finish();
        for (let k = 0; k < batch.length; k++) this.deliver(batch[k]!, vectors[k]);
      },
      (err: unknown) => {
        finish();
        for (const item of batch) this.fail(item.job, err);
      },
    );
  }

  private removeChosen(chosen: readonly number[]): void {
    const last = chosen[chosen.length - 1]!;
    if (chosen.length === last + 1) {
      this.queue.splice(0, chosen.length);
      return;
    }
    const taken = new Set(chosen);
    const kept: Item[] = [];
    for (let i = 0; i <= last; i++) if (!taken.has(i)) kept.push(this.queue[i]!);
    this.queue.splice(0, last + 1, ...kept);
  }

  private deliver(item: Item, vector: Float32Array | undefined): void {
    const job = item.job;
    if (job.settled) return;
    if (vector === undefined) {
      this.fail(job, new Error("the engine returned fewer vectors than rows in the batch"));
      return;
    }
    job.rows[item.index] = vector;
    if (--job.remaining === 0) {
      job.settled = true;
      job.resolve(job.rows);
    }
  }

  private fail(job: Job, err: unknown): void {
    if (job.settled) return;
    job.settled = true;
    job.reject(err);
  }
}
