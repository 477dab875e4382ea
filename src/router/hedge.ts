// When to send a second, hedged copy of a shard query to another replica. With S shards the
// router's p99 is each shard's p99.75 (S=4), so one slow replica would set the whole index's tail;
// a hedge after the shard's own recent p95 costs about 5% extra shard load and cuts that tail.

export interface HedgePolicy {
  enabled: boolean;
  /** Never hedge sooner than this: below it the extra load buys nothing measurable. */
  minDelayMs: number;
  /** Samples needed before the p95 is trusted; until then no hedging (cold start). */
  minSamples: number;
}

export interface HedgeInput {
  p95Ms: number | undefined;
  samples: number;
  /** Live replicas other than the one already asked. */
  otherLiveReplicas: number;
  /** Time left before the shard call's deadline. */
  remainingMs: number;
}

/** Milliseconds to wait before hedging, or undefined for "do not hedge this request". */
export function hedgeDelayMs(policy: HedgePolicy, input: HedgeInput): number | undefined {
  if (!policy.enabled || input.otherLiveReplicas < 1) return undefined;
  if (input.p95Ms === undefined || input.samples < policy.minSamples) return undefined;
  const delay = Math.max(policy.minDelayMs, input.p95Ms);
  // A hedge that cannot finish before the deadline only adds load.
  return delay < input.remainingMs ? delay : undefined;
}
