// Pure decisions of serve's generation shell: which encoder embeds for a generation, the router
// config of an index with one or two generations, and the backfill plan of a move. No processes.
import type { GenerationRef } from "../generation/generation-rollout.js";
import type { EncoderRouting, LocalIndex } from "./plan.js";

/** One generation's shard processes: replica URLs per shard, in the index's shard order. */
export interface GenerationShards {
  readonly ref: GenerationRef;
  readonly shards: readonly (readonly string[])[];
}

/** What a model's rollout driver runs: the stable routing and, while NewGenerationRequired holds it, the candidate. */
export interface ModelView {
  readonly stable?: { readonly fingerprint: string | undefined; readonly routing: EncoderRouting };
  /**
   * The candidate held at NewGenerationRequired for the indexes' move; `url` only while its encoder
   * runs (after a restart it starts at the model's next tick).
   */
  readonly held?: {
    readonly fingerprint: string;
    readonly revision: string;
    readonly url?: string;
    readonly routedUrl?: string;
    /** When the model's rollout of it started: a newer one restarts an index's failed move. */
    readonly startedAt: string;
  };
}

/**
 * The encoder a generation's queries and writes are embedded by: the model's stable routing when
 * the generation has the stable fingerprint (a same-fingerprint canary split included), the held
 * candidate when it has the candidate's. Undefined when no running encoder has that fingerprint.
 */
export function encoderFor(fingerprint: string, view: ModelView): EncoderRouting | undefined {
  if (view.stable && view.stable.fingerprint === fingerprint) return view.stable.routing;
  if (view.held?.routedUrl && view.held.fingerprint === fingerprint)
    return { url: view.held.routedUrl, revision: view.held.revision };
  return undefined;
}

/**
 * The generation the model asks this index for: the held candidate's when there is one, else the
 * stable's. Undefined before the stable reported its fingerprint.
 */
export function targetOf(view: ModelView, generationOf: (fp: string) => string): GenerationRef | undefined {
  const fp = view.held?.fingerprint ?? view.stable?.fingerprint;
  return fp === undefined ? undefined : { generation: generationOf(fp), fingerprint: fp };
}

interface ServedGeneration extends GenerationShards {
  /** null: no encoder with its fingerprint runs (the router refuses text, vectors still work). */
  readonly encoder: EncoderRouting | null;
  /** Per shard, replicas being seeded (replica-seeder.ts): written to, never queried. */
  readonly syncing?: readonly (readonly string[])[] | undefined;
}

/**
 * The router config (src/router/config.ts `generations` form): the active generation, and during a
 * move the candidate with its share of queries. Writes go to both.
 */
export function generationRouterConfig(
  index: LocalIndex,
  active: ServedGeneration,
  candidate?: ServedGeneration & { readonly queryWeight: number },
): Record<string, unknown> {
  const gen = (g: ServedGeneration, role: "active" | "candidate", queryWeight?: number) => ({
    name: g.ref.generation,
    role,
    ...(queryWeight !== undefined ? { queryWeight } : {}),
    fingerprint: g.ref.fingerprint,
    dimension: index.dimension,
    metric: index.metric,
    encoder: g.encoder,
    shards: index.shards.map((name, i) => {
      const syncing = g.syncing?.[i] ?? [];
      return {
        name,
        replicas: [...(g.shards[i] ?? []), ...syncing],
        ...(syncing.length > 0 ? { syncing: [...syncing] } : {}),
      };
    }),
  });
  return {
    index: index.name,
    generations: [
      gen(active, "active"),
      ...(candidate ? [gen(candidate, "candidate", candidate.queryWeight)] : []),
    ],
    timeoutMs: index.timeoutMs,
    writeQuorum: index.writeQuorum,
  };
}

/** The backfill plan (src/generation/plan.ts) of a local move from N to N+1. */
export function localBackfillPlan(
  index: LocalIndex,
  from: GenerationShards,
  to: GenerationShards & { readonly encoderUrl: string },
  stable: { readonly metricsUrl: string; readonly revision?: string } | undefined,
): Record<string, unknown> {
  const shards = (g: GenerationShards) =>
    index.shards.map((name, i) => ({ name, replicas: [...(g.shards[i] ?? [])] }));
  const maxP99Ms = index.rollout.slo.maxP99LatencyMs;
  return {
    index: index.name,
    from: { generation: from.ref.generation, fingerprint: from.ref.fingerprint, shards: shards(from) },
    to: {
      generation: to.ref.generation,
      fingerprint: to.ref.fingerprint,
      shards: shards(to),
      encoder: { url: to.encoderUrl },
    },
    writeQuorum: index.writeQuorum,
    maxDocumentsPerSecond: index.rollout.backfill.maxDocumentsPerSecond,
    // The stable's p99 (through the router: what clients feel) guards the backfill's rate.
    ...(stable && maxP99Ms !== undefined
      ? {
          latencyGuard: {
            metricsUrl: stable.metricsUrl,
            ...(stable.revision ? { revision: stable.revision } : {}),
            maxP99Ms,
          },
        }
      : {}),
  };
}
