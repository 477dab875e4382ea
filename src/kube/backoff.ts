// Per-key exponential backoff, the item rate limiter cert-manager uses (1 s doubling to 30 s):
// a key that keeps failing is retried ever more slowly without slowing down healthy keys.

export interface BackoffOptions {
  /** Delay after the first failure. Default 1000 ms. */
  readonly baseDelayMs?: number;
  /** Upper bound of the delay. Default 30000 ms. */
  readonly maxDelayMs?: number;
}

export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: BackoffOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    if (this.baseDelayMs <= 0 || this.maxDelayMs < this.baseDelayMs) {
      throw new Error(
        `backoff needs 0 < baseDelayMs <= maxDelayMs, got ${this.baseDelayMs} and ${this.maxDelayMs}`,
      );
    }
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // Cap the exponent too: 2 ** 1100 is Infinity, and Infinity * 0 surprises.
    return Math.min(this.baseDelayMs * 2 ** Math.min(n, 52), this.maxDelayMs);
  }

  /** Called on success: the next failure starts again at the base delay. */
  reset(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
