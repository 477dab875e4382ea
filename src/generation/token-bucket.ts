// The backfill's document budget: a token bucket refilled at `rate` documents per second, holding at
// most `burst` tokens. A batch takes its documents' tokens at once and may leave the bucket in debt;
// the debt is the wait before the batch may be sent, so the long-run rate never exceeds `rate`
// whatever the batch size. Pure: time comes in as `now` (ms), the caller sleeps.

export interface TokenBucket {
  readonly rate: number;
  readonly burst: number;
  /** May be negative: documents already sent on credit. */
  readonly tokens: number;
  readonly at: number;
}

/** An empty bucket: even the first second sends at most `rate` documents. */
export function createBucket(rate: number, burst: number, now: number): TokenBucket {
  if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, got ${burst}`);
  return { rate, burst, tokens: 0, at: now };
}

function refill(b: TokenBucket, now: number): TokenBucket {
  const elapsed = Math.max(0, now - b.at) / 1000;
  return { ...b, tokens: Math.min(b.burst, b.tokens + elapsed * b.rate), at: Math.max(b.at, now) };
}

/** Takes `n` tokens; `waitMs` is how long to wait before sending them (0 when the bucket held them). */
export function take(b: TokenBucket, n: number, now: number): { bucket: TokenBucket; waitMs: number } {
  const r = refill(b, now);
  const tokens = r.tokens - n;
  const waitMs = tokens >= 0 ? 0 : (-tokens / r.rate) * 1000;
  return { bucket: { ...r, tokens }, waitMs };
}

/** The same bucket at a new rate from `now` on (what was earned at the old rate is kept). */
export function withRate(b: TokenBucket, rate: number, now: number): TokenBucket {
  if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  return { ...refill(b, now), rate };
}
