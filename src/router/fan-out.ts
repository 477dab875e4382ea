// A query over every shard of the generation. Missing shards fail the query (503 naming them)
// unless the caller accepted partial results; a 4xx from any shard fails it as the caller's fault.
import { performance } from "node:perf_hooks";
import { HttpError } from "./errors.js";
import type { ShardHits } from "./merge.js";
import type { ShardReplicas } from "./replica-pool.js";
import type { ShardQuery } from "./shard-client.js";
import { queryShard, type ShardQueryContext, ShardUnavailable } from "./shard-query.js";

export interface FanOutResult {
  lists: ShardHits[];
  missing: { shard: string; reason: string }[];
  hedged: number;
  ms: number;
  scoreKind: string | undefined;
}

export async function fanOut(
  shards: readonly ShardReplicas[],
  q: ShardQuery,
  ctx: ShardQueryContext,
  allowPartial: boolean,
): Promise<FanOutResult> {
  const t0 = performance.now();
  const settled = await Promise.allSettled(shards.map((s) => queryShard(s, q, ctx)));
  const lists: ShardHits[] = [];
  const missing: { shard: string; reason: string }[] = [];
  let hedged = 0;
  let scoreKind: string | undefined;
  settled.forEach((r, i) => {
    const name = shards[i]!.name;
    if (r.status === "fulfilled") {
      lists.push({ shard: name, results: r.value.results });
      if (r.value.hedged) hedged++;
      scoreKind ??= r.value.scoreKind;
    } else if (r.reason instanceof ShardUnavailable) {
      missing.push({ shard: name, reason: r.reason.reasons.join("; ") });
    } else {
      throw r.reason;
    }
  });
  if (missing.length > 0 && (!allowPartial || lists.length === 0)) {
    const names = missing.map((m) => m.shard).join(", ");
    const hint = allowPartial
      ? "no shard answered"
      : 'set "allowPartial": true to get results from the other shards';
    throw new HttpError(
      503,
      "shard_unavailable",
      `shard ${names} unavailable (${missing.map((m) => `${m.shard}: ${m.reason}`).join(" | ")}); ${hint}`,
      { shards: missing },
    );
  }
  return { lists, missing, hedged, ms: performance.now() - t0, scoreKind };
}
