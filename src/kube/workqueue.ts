// The workqueue between watches and reconcilers, with client-go's guarantees:
// - a key added while it waits is one item (watch bursts collapse into one reconcile);
// - a key added while it is being processed is queued again after done(), so one key is never
//   reconciled by two workers at once and the latest change is never lost;
// - failures back off per key; computed requeues (addAfter) keep the earliest deadline.
import { type BackoffOptions, ExponentialBackoff } from "./backoff.js";
import { type Clock, systemClock, type TimerHandle } from "./clock.js";

export interface WorkQueueOptions extends BackoffOptions {
  readonly clock?: Clock;
}

export interface ShutDownOptions {
  /**
   * true (default): keys already queued are still handed out so their reconciles finish, the
   * SIGTERM case. false: they are dropped, the lost-leadership case, where another replica owns
   * them now.
   */
  readonly drain?: boolean;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly backoff: ExponentialBackoff;
  private readonly queue: string[] = [];
  /** Keys that need processing: queued, or re-added while processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiting = new Map<string, { readyAt: number; timer: TimerHandle }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new ExponentialBackoff(options);
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() queues it again
    this.enqueue(key);
  }

  /**
   * Adds `key` after `delayMs`. When the key already waits for a deadline, the earlier one wins:
   * a reconcile that asks to look again in 10 s must not be postponed by a later 5-minute resync.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing) {
      if (existing.readyAt <= readyAt) return;
      this.clock.clearTimeout(existing.timer);
    }
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { readyAt, timer });
  }

  /** Re-adds a failed key after its backoff delay; returns that delay (for logs). */
  addRateLimited(key: string): number {
    const delay = this.backoff.next(key);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the key's backoff; call after a successful reconcile. */
  forget(key: string): void {
    this.backoff.reset(key);
  }

  failuresOf(key: string): number {
    return this.backoff.failuresOf(key);
  }

  /**
   * The next key to process, or undefined once the queue is shut down and has nothing left.
   * The caller must call done(key) when it finishes, success or not.
   */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.startProcessing(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.enqueue(key);
    this.notifyIdle();
  }

  shutDown(options: ShutDownOptions = {}): void {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
    this.waiting.clear();
    if (options.drain === false) {
      this.queue.length = 0;
      this.dirty.clear(); // includes keys re-added while processing
    }
    // Workers blocked in get() can only be waiting because the queue is empty.
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    this.notifyIdle();
  }

  /** Resolves when nothing is queued or being processed; with shutDown, the end of a drain. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Keys ready and waiting for a worker: the queue depth gauge. */
  get length(): number {
    return this.queue.length;
  }

  /** Keys waiting for a deadline (backoff or requeue-after). */
  get delayed(): number {
    return this.waiting.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter) getter(this.startProcessing(key));
    else this.queue.push(key);
  }

  private startProcessing(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
