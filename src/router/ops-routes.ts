// GET /v1/stats, /healthz, /readyz, /metrics. The top level of /v1/stats and /readyz is the active
// generation's; a candidate generation is reported under `candidate` and does not gate readiness.
import type { RequestHandler } from "express";
import type { RevisionStatus } from "./encoder-revisions.js";
import type { GenerationRuntime } from "./generation-runtime.js";
import type { ShardReplicas } from "./replica-pool.js";
import type { RouterDeps } from "./router-deps.js";

/** Replicas that missed a write and are not repaired yet, with where their repair stands. */
function laggingOf(shard: ShardReplicas) {
  const now = Date.now();
  return shard.replicas.flatMap((r) => {
    const lag = r.lagging;
    if (!lag) return [];
    const rep = lag.repair;
    return [
      {
        replica: r.url,
        since: new Date(lag.since).toISOString(),
        misses: lag.misses,
        repair:
          rep.phase === "catching-up"
            ? { phase: rep.phase, from: rep.from, afterSeq: rep.afterSeq, own: rep.own, covers: rep.covers }
            : {
                phase: rep.phase,
                reason: rep.reason,
                attempts: rep.attempts,
                retryInMs: Math.max(0, rep.retryAt - now),
              },
      },
    ];
  });
}

async function generationStats(rt: GenerationRuntime) {
  const gen = rt.generation;
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
              ...(r.syncing ? { syncing: true } : {}),
              ...(r.lagging ? { lagging: true } : {}),
              ...(r.catchingUp ? { catchingUp: true } : {}),
              count: typeof stats.count === "number" ? stats.count : undefined,
              stats,
            };
          } catch (err) {
            return {
              url: r.url,
              live: r.live,
              ...(r.syncing ? { syncing: true } : {}),
              ...(r.lagging ? { lagging: true } : {}),
              ...(r.catchingUp ? { catchingUp: true } : {}),
              error: (err as Error).message,
              lastError: r.lastError,
            };
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
        lagging: laggingOf(shard),
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
  return {
    generation: gen.name,
    role: gen.role,
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
  };
}

export function statsRoute(deps: RouterDeps): RequestHandler {
  return async (_req, res) => {
    const index = deps.runtime();
    const [active, candidate] = await Promise.all([
      generationStats(index.active),
      index.candidate ? generationStats(index.candidate) : undefined,
    ]);
    const cand = index.candidate;
    res.json({
      index: index.config.index,
      olderWritesInFlight: deps.olderWritesInFlight?.() ?? 0,
      ...active,
      ...(candidate && cand
        ? {
            candidate: {
              ...candidate,
              queryWeight: index.queryWeight,
              ready: cand.notReadyReasons().length === 0,
              reasons: cand.notReadyReasons(),
            },
          }
        : {}),
    });
  };
}

export const healthzRoute: RequestHandler = (_req, res) => {
  res.json({ status: "ok" });
};

export function readyzRoute(deps: RouterDeps): RequestHandler {
  return (_req, res) => {
    const index = deps.runtime();
    const reasons = index.notReadyReasons();
    const cand = index.candidate;
    const candReasons = cand?.notReadyReasons() ?? [];
    res.status(reasons.length === 0 ? 200 : 503).json({
      ready: reasons.length === 0,
      reasons,
      generation: index.active.name,
      ...(cand
        ? { candidate: { generation: cand.name, ready: candReasons.length === 0, reasons: candReasons } }
        : {}),
    });
  };
}

export function metricsRoute(deps: RouterDeps): RequestHandler {
  return async (_req, res) => {
    res.set("content-type", deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  };
}
