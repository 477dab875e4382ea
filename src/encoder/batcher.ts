// The queue and worker around planBatch: the thin shell. Requests submit their tokenized inputs;
// inputs of one request may land in different batches, and the request settles when all are done.
// One batch runs at a time. A full batch (the limits leave queued inputs out) is handed to the engine
// at once and waits behind the running one, so the engine never idles while a full batch is ready
// (TEI's channel of depth 1); anything less is planned when the engine frees up, from whatever queued
// meanwhile (no timer: an idle server runs a lone request at once, as TEI does).
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
  /** Batches handed to the engine and not finished: the running one and at most one full one behind it. */
  private inFlight = 0;
  /** When the engine last finished a batch: a batch that waited behind another starts then. */
  private lastFinish = 0;
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

  /** Queued inputs, not counting batches handed to the engine. */
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
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.inFlight === 1) {
      if (this.fullBatchWaiting()) this.runNext();
      return;
    }
    if (this.scheduled || this.inFlight > 1) return;
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

  /** The queue holds more than the limits let one batch take: waiting can make it no fuller. */
  private fullBatchWaiting(): boolean {
    if (this.queue.length >= this.limits.maxBatchRequests) return true;
    return this.queue.length > 1 && planBatch(this.queue, this.limits).length < this.queue.length;
  }

  private runNext(): void {
    if (this.inFlight > 1) return;
    if (this.cancelled) {
      this.cancelled = false;
      this.queue = this.queue.filter((item) => !item.job.cancelled);
      this.observer.queueDepth(this.queue.length);
    }
    if (this.queue.length === 0) {
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const chosen = planBatch(this.queue, this.limits);
    for (const i of passedOver(chosen, this.queue.length)) this.queue[i]!.passes++;
    const batch = chosen.map((i) => this.queue[i]!);
    this.removeChosen(chosen);
    this.observer.queueDepth(this.queue.length);

    this.inFlight++;
    const started = performance.now();
    const ids = batch.map((item) => item.ids);
    const finish = () => {
      this.inFlight--;
      const now = performance.now();
      this.observer.batchDone({
        inputs: batch.length,
        paddedTokens: paddedCost(ids.map((r) => r.length)),
        seconds: (now - Math.max(started, this.lastFinish)) / 1000,
      });
      this.lastFinish = now;
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
