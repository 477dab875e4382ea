// Prometheus metrics for one shard. A Registry per shard instance rather than module-scope metrics:
// benchmarks and `embedops serve` may run several shards in one process, each with its own /metrics.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface ShardMetrics {
  registry: Registry;
  requestDuration: Histogram<"route" | "method" | "status">;
  pointsUpserted: Counter;
  pointsDeleted: Counter;
  points: Gauge;
  queryDuration: Histogram<"path">;
  checkpointDuration: Histogram;
  replayedRows: Counter;
  compactions: Counter;
}

export function createShardMetrics(shardId: string, livePoints: () => number): ShardMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ shard: shardId });
  const p = "embedops_shard_";
  return {
    registry,
    requestDuration: new Histogram({
      name: `${p}http_request_duration_seconds`,
      help: "HTTP request duration by route and status",
      labelNames: ["route", "method", "status"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    pointsUpserted: new Counter({
      name: `${p}points_upserted_total`,
      help: "Points committed by upserts",
      registers: [registry],
    }),
    pointsDeleted: new Counter({
      name: `${p}points_deleted_total`,
      help: "Points deleted",
      registers: [registry],
    }),
    points: new Gauge({
      name: `${p}points`,
      help: "Live points in the shard",
      registers: [registry],
      collect() {
        this.set(livePoints());
      },
    }),
    queryDuration: new Histogram({
      name: `${p}query_duration_seconds`,
      help: "Search time inside the shard (hnsw graph walk, exact scan of a selective filter, or an exact:true request)",
      labelNames: ["path"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    checkpointDuration: new Histogram({
      name: `${p}checkpoint_duration_seconds`,
      help: "Time to write, fsync and hash one graph checkpoint",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    replayedRows: new Counter({
      name: `${p}replayed_rows_total`,
      help: "Database rows applied to the graph at start (after the checkpoint, or all on a rebuild)",
      registers: [registry],
    }),
    compactions: new Counter({
      name: `${p}compactions_total`,
      help: "Graph rebuilds that dropped deleted elements",
      registers: [registry],
    }),
  };
}
