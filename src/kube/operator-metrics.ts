// The operator's own metrics, in its own Registry (as Pepr does) so tests can run several
// runtimes in one process and /metrics shows nothing but the operator.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileDuration: Histogram<"controller">;
  readonly reconcileErrors: Counter<"controller">;
  readonly queueDepth: Gauge<"controller">;
  readonly isLeader: Gauge;
  /** Finished encoder rollouts by result (Succeeded, Failed) and reason (RolloutFailed, Aborted...). */
  readonly rolloutsTotal: Counter<"result" | "reason">;
}

export const METRIC_PREFIX = "embedops_operator_";

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: `${METRIC_PREFIX}reconcile_total`,
      help: "Reconciles by controller and result (success, requeue, error).",
      labelNames: ["controller", "result"] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: `${METRIC_PREFIX}reconcile_duration_seconds`,
      help: "Time spent in one reconcile.",
      labelNames: ["controller"] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    reconcileErrors: new Counter({
      name: `${METRIC_PREFIX}reconcile_errors_total`,
      help: "Reconciles that threw; the key is retried with per-key backoff.",
      labelNames: ["controller"] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: `${METRIC_PREFIX}queue_depth`,
      help: "Keys ready and waiting for a worker.",
      labelNames: ["controller"] as const,
      registers,
    }),
    isLeader: new Gauge({
      name: `${METRIC_PREFIX}leader`,
      help: "1 while this replica holds the leader Lease.",
      registers,
    }),
    rolloutsTotal: new Counter({
      name: `${METRIC_PREFIX}rollouts_total`,
      help: "Encoder rollouts that ended, by result (Succeeded, Failed) and reason.",
      labelNames: ["result", "reason"] as const,
      registers,
    }),
  };
}
