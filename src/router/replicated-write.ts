// Writes (upserts, deletes) go to every replica of the owning shard; a shard's part is acknowledged
// when at least the write quorum of its replicas committed. The report names every failed replica
// even when the quorum was met, so a degraded shard is visible before it loses its last copy.
// A replica that failed a write another one committed becomes lagging (replica-repair.ts): still
// written to, not queried, until the router's repair loop caught it up from an in-sync peer.
import { performance } from "node:perf_hooks";
import type { Logger } from "../util/log.js";
import { HttpError } from "./errors.js";
import type { RouterMetrics } from "./metrics.js";
import type { ShardReplicas } from "./replica-pool.js";
import type { WriteAck } from "./shard-client.js";
import { UpstreamError } from "./upstream-error.js";

export interface ShardWriteReport {
  items: number;
  acknowledged: number;
  required: number;
  failed: { replica: string; error: string }[];
}

export function requiredAcks(quorum: "all" | number, replicas: number): number {
  return quorum === "all" ? replicas : Math.min(quorum, replicas);
}

/**
 * Runs `write(replicaUrl)` on every replica of every shard in `work` and checks the quorum. Throws a
 * 503 naming each shard that missed it (with every replica's error); a 4xx from a replica is the
 * request's fault and is thrown as such.
 */
export async function replicatedWrite<T>(
  work: readonly { shard: ShardReplicas; items: T }[],
  quorum: "all" | number,
  op: string,
  metrics: RouterMetrics,
  /** `live` is false for a replica the probes marked down: it is still tried (it may be back), on a short leash. */
  write: (replica: string, items: T, live: boolean) => Promise<WriteAck | undefined>,
  count: (items: T) => number,
  /** Where a replica that becomes lagging is logged (at warn), with the generation it belongs to. */
  lagging?: { log: Logger; generation: string },
): Promise<Record<string, ShardWriteReport>> {
  const reports: Record<string, ShardWriteReport> = {};
  await Promise.all(
    work.map(async ({ shard, items }) => {
      const report: ShardWriteReport = {
        items: count(items),
        acknowledged: 0,
        required: requiredAcks(quorum, shard.replicas.length),
        failed: [],
      };
      reports[shard.name] = report;
      // Peer URL → its seq before this write; a missing seq means "re-read all its rows" (0).
      const committed = new Map<string, number>();
      await Promise.all(
        shard.replicas.map(async (r) => {
          const t0 = performance.now();
          try {
            const ack = await write(r.url, items, r.live);
            committed.set(r.url, ack?.seqBefore ?? 0);
            report.acknowledged++;
            shard.markUp(r.url);
            metrics.shardRequestDuration.observe(
              { shard: shard.name, replica: r.url, op },
              (performance.now() - t0) / 1000,
            );
          } catch (err) {
            if (err instanceof UpstreamError && err.clientFault) {
              throw new HttpError(
                err.status,
                "shard_refused",
                `shard ${shard.name} refused the ${op}: ${err.upstreamMessage}`,
                {
                  shard: shard.name,
                  replica: r.url,
                },
              );
            }
            const reason = err instanceof UpstreamError ? `http_${err.status}` : "network";
            if (reason === "network" || reason === "http_503") shard.markDown(r.url, (err as Error).message);
            metrics.errors.inc({ shard: shard.name, reason });
            report.failed.push({ replica: r.url, error: (err as Error).message });
          }
        }),
      );
      // Committed somewhere, so it exists: the failed replicas lack it (or hold it unacknowledged).
      if (committed.size === 0) return;
      for (const f of report.failed) {
        if (!shard.recordMiss(f.replica, committed)) continue;
        lagging?.log.warn(
          "replica lagging: it failed a write its peers committed; not queried until repaired",
          {
            generation: lagging.generation,
            shard: shard.name,
            replica: f.replica,
            op,
            error: f.error,
            committedOn: [...committed.keys()],
          },
        );
      }
    }),
  );
  const short = Object.entries(reports).filter(([, r]) => r.acknowledged < r.required);
  if (short.length > 0) {
    const detail = short
      .map(
        ([name, r]) =>
          `shard ${name}: ${r.acknowledged} of ${r.required} required replicas committed (${r.failed.map((f) => `${f.replica}: ${f.error}`).join("; ")})`,
      )
      .join(" | ");
    throw new HttpError(
      503,
      "write_quorum_not_met",
      `${op} not acknowledged: ${detail}. Some replicas may hold the write; retrying the same request is safe (writes are idempotent).`,
      { shards: reports },
    );
  }
  return reports;
}
