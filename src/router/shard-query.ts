// One shard's part of a query: ask one live replica; when it is slower than the shard's recent p95,
// ask another too and take whichever answers first; when a replica fails, try the next one while
// time is left. Each shard call is bounded by the router's timeout.
import { performance } from "node:perf_hooks";
import { HttpError } from "./errors.js";
import { type HedgePolicy, hedgeDelayMs } from "./hedge.js";
import { RequestFailed } from "./http-client.js";
import type { RouterMetrics } from "./metrics.js";
import type { ShardReplicas } from "./replica-pool.js";
import type { ShardClient, ShardQuery, ShardQueryResult } from "./shard-client.js";
import { UpstreamError } from "./upstream-error.js";

/** No replica of the shard answered in time (or none is live). */
export class ShardUnavailable extends Error {
  override name = "ShardUnavailable";
  constructor(
    readonly shard: string,
    readonly reasons: string[],
  ) {
    super(`shard ${shard} is unavailable: ${reasons.join("; ")}`);
  }
}

export interface ShardQueryContext {
  client: ShardClient;
  metrics: RouterMetrics;
  hedge: HedgePolicy;
  timeoutMs: number;
}

export interface ShardAnswer extends ShardQueryResult {
  replica: string;
  hedged: boolean;
}

function failureReason(err: unknown): string {
  if (err instanceof RequestFailed) return err.reason;
  if (err instanceof UpstreamError) return `http_${err.status}`;
  return "error";
}

export function queryShard(
  shard: ShardReplicas,
  q: ShardQuery,
  ctx: ShardQueryContext,
): Promise<ShardAnswer> {
  const started = performance.now();
  const deadline = started + ctx.timeoutMs;
  const tried = new Set<string>();
  const failures: string[] = [];
  /** Calls still in flight: only these are cancelled when another call settles the shard. */
  const pending = new Set<AbortController>();
  let hedged = false;

  return new Promise<ShardAnswer>((resolve, reject) => {
    let done = false;
    let inFlight = 0;
    let hedgeTimer: NodeJS.Timeout | undefined;
    const settle = () => {
      done = true;
      if (hedgeTimer) clearTimeout(hedgeTimer);
      // Aborting builds a DOMException per call: skip the calls that already answered.
      for (const c of pending) c.abort();
      pending.clear();
    };

    const launch = (): boolean => {
      const replica = shard.pick(tried);
      const remaining = deadline - performance.now();
      if (!replica || remaining < 1) return false;
      tried.add(replica.url);
      inFlight++;
      replica.inFlight++;
      const ac = new AbortController();
      pending.add(ac);
      const t0 = performance.now();
      ctx.client.query(replica.url, q, { timeoutMs: Math.ceil(remaining), signal: ac.signal }).then(
        (result) => {
          pending.delete(ac);
          inFlight--;
          replica.inFlight--;
          const ms = performance.now() - t0;
          shard.latency.record(ms);
          ctx.metrics.shardRequestDuration.observe(
            { shard: shard.name, replica: replica.url, op: "query" },
            ms / 1000,
          );
          if (done) return;
          settle();
          resolve({ ...result, replica: replica.url, hedged });
        },
        (err: unknown) => {
          pending.delete(ac);
          inFlight--;
          replica.inFlight--;
          if (done) return; // the losing half of a hedge, cancelled on purpose
          if (err instanceof UpstreamError && err.clientFault) {
            settle();
            reject(
              new HttpError(err.status, "shard_refused", `shard ${shard.name}: ${err.upstreamMessage}`, {
                shard: shard.name,
              }),
            );
            return;
          }
          const reason = failureReason(err);
          ctx.metrics.errors.inc({ shard: shard.name, reason });
          failures.push(`${replica.url}: ${(err as Error).message}`);
          // A replica that refused the connection or is not ready is out until the prober sees it
          // back. A timeout does not mark it: slow is not dead, and under load marking busy replicas
          // down turned every query into a 503 (seen in bench:index at 16 clients); the prober
          // decides after repeated probe timeouts.
          if (reason === "network" || reason === "http_503") {
            shard.markDown(replica.url, (err as Error).message);
          }
          if (launch()) return;
          if (inFlight === 0) {
            settle();
            reject(new ShardUnavailable(shard.name, failures));
          }
        },
      );
      return true;
    };

    if (!launch()) {
      const down = shard.replicas.map((r) => `${r.url}: ${r.lastError ?? "marked down"}`);
      reject(new ShardUnavailable(shard.name, [`no live replica (${down.join("; ")})`]));
      return;
    }
    const otherLiveReplicas = shard.liveCount() - 1;
    // The p95 sorts the latency window: only worth it when a hedge is possible at all.
    const delay =
      ctx.hedge.enabled && otherLiveReplicas >= 1
        ? hedgeDelayMs(ctx.hedge, {
            p95Ms: shard.latency.quantile(0.95),
            samples: shard.latency.size,
            otherLiveReplicas,
            remainingMs: ctx.timeoutMs,
          })
        : undefined;
    if (delay !== undefined) {
      hedgeTimer = setTimeout(() => {
        if (done) return;
        if (launch()) {
          hedged = true;
          ctx.metrics.hedges.inc({ shard: shard.name });
        }
      }, delay);
    }
  });
}
