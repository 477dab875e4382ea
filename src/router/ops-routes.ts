// GET /v1/stats, /healthz, /readyz, /metrics.
import type { RequestHandler } from "express";
import type { RevisionStatus } from "./encoder-revisions.js";
import type { RouterDeps } from "./router-deps.js";

export function statsRoute(deps: RouterDeps): RequestHandler {
  return async (_req, res) => {
    const rt = deps.runtime();
    const gen = rt.config.generation;
    const timeoutMs = rt.config.timeoutMs;
    const shards = await Promise.all(
      rt.shards.map(async (shard) => {
        const replicas = await Promise.all(
          shard.replicas.map(async (r) => {
            try {
              const stats = await rt.shardClient.stats(r.url, { timeoutMs });
              return {
                url: r.url,
                live: r.live,
                count: typeof stats.count === "number" ? stats.count : undefined,
                stats,
              };
            } catch (err) {
              return { url: r.url, live: r.live, error: (err as Error).message, lastError: r.lastError };
            }
          }),
        );
        // Replicas of a healthy shard hold the same points; the largest count is the shard's, a smaller
        // one is a replica that missed writes.
        const counts = replicas
          .map((r) => ("count" in r ? r.count : undefined))
          .filter((c): c is number => c !== undefined);
        return {
          name: shard.name,
          count: counts.length > 0 ? Math.max(...counts) : null,
          liveReplicas: shard.liveCount(),
          p95Ms: shard.latency.quantile(0.95) ?? null,
          replicas,
        };
      }),
    );
    const [stable, canary] = rt.encoder.revisions();
    const describe = (r: RevisionStatus) => ({
      url: r.url,
      revision: r.revision,
      state: r.status.state,
      ...(r.status.state === "ok" ? { fingerprint: r.status.info.fingerprint } : {}),
      ...("message" in r.status ? { message: r.status.message } : {}),
    });
    res.json({
      index: rt.config.index,
      generation: gen.name,
      fingerprint: gen.fingerprint,
      dimension: gen.dimension,
      metric: gen.metric,
      count: shards.reduce((n, s) => n + (s.count ?? 0), 0),
      complete: shards.every((s) => s.count !== null),
      encoder:
        gen.encoder && stable
          ? {
              ...describe(stable),
              ...(canary ? { canary: { ...describe(canary), weight: rt.encoder.weight } } : {}),
            }
          : null,
      shards,
    });
  };
}

export const healthzRoute: RequestHandler = (_req, res) => {
  res.json({ status: "ok" });
};

export function readyzRoute(deps: RouterDeps): RequestHandler {
  return (_req, res) => {
    const reasons = deps.runtime().notReadyReasons();
    res.status(reasons.length === 0 ? 200 : 503).json({ ready: reasons.length === 0, reasons });
  };
}

export function metricsRoute(deps: RouterDeps): RequestHandler {
  return async (_req, res) => {
    res.set("content-type", deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  };
}
