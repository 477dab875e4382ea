// What `embedops serve` runs for a file of resources: pure decisions, no processes. The shell in
// src/cli/serve.ts starts what this plan says, in order: encoders, then (once each encoder reported
// its fingerprint) shards, then routers.
import { isAbsolute, join, resolve } from "node:path";
import type {
  EmbeddingModel,
  EmbedopsResource,
  ModelRolloutPolicy,
  VectorIndex,
} from "../api/v1alpha1/index.js";
import { shardNames } from "../core/generation.js";
import { encoderRuntimeArgs, encoderSpaceArgs, hnswArgs } from "../core/role-args.js";
import { type GoldenQuery, parseGoldenSet } from "../generation/golden-set.js";
import { encoderRevision, revisionInputOf } from "../rollout/revision.js";

/**
 * The "image" in a local revision: serve runs encoders from its own code, so the image is no part
 * of what changes locally, and a constant keeps revisions stable across embedops upgrades.
 */
export const LOCAL_IMAGE = "embedops-serve";

export interface LocalModel {
  name: string;
  modelDir: string;
  /** sha256 of model.onnx the spec pins, checked before the encoder starts. */
  sha256?: string;
  dimension: number;
  /**
   * Encoder flags besides --revision: the model directory, the runtime's and the embedding space's. Stored
   * per revision in the rollout file; the space is part of the revision (as `space`), so a revision
   * always means the same flags.
   */
  encoderArgs: string[];
  /** encoderRevision(revisionInputOf(spec, LOCAL_IMAGE)): a change starts a canary. */
  revision: string;
  rollout: ModelRolloutPolicy;
}

export interface LocalIndex {
  name: string;
  model: string;
  metric: "cosine" | "l2" | "ip";
  dimension: number;
  shards: string[];
  replicas: number;
  writeQuorum: number | "all";
  timeoutMs: number;
  /** Shard flags besides --data-dir, --fingerprint and --shard-id. */
  shardArgs: string[];
  /** How a model change moves the index to a new generation (backfill, canary, retainPrevious). */
  rollout: VectorIndex["spec"]["rollout"];
  /** spec.quality with its golden set read from a ConfigMap in the same file; undefined: probe texts. */
  quality?: LocalQuality;
  /** spec.snapshot: serve's snapshot scheduler runs its schedule and retention. */
  snapshot?: VectorIndex["spec"]["snapshot"];
  /** spec.restore: filled from that snapshot before its shards first start (restore-at-start.ts). */
  restore?: VectorIndex["spec"]["restore"];
}

export interface LocalQuality {
  golden: GoldenQuery[];
  k: number;
  minRecall: number;
}

export interface LocalPlan {
  models: LocalModel[];
  indexes: LocalIndex[];
}

export type PlanResult = { ok: true; plan: LocalPlan } | { ok: false; errors: string[] };

export function planLocal(
  resources: readonly EmbedopsResource[],
  cwd: string,
  /** The file's other documents: ConfigMaps holding golden sets. */
  others: readonly Record<string, unknown>[] = [],
): PlanResult {
  const errors: string[] = [];
  const models = resources.filter((r): r is EmbeddingModel => r.kind === "EmbeddingModel");
  const indexes = resources.filter((r): r is VectorIndex => r.kind === "VectorIndex");

  const localModels: LocalModel[] = [];
  for (const m of models) {
    const { source, runtime } = m.spec;
    if (source.path === undefined) {
      errors.push(
        `EmbeddingModel "${m.metadata.name}": spec.source must be a local path for embedops serve ` +
          `(pvc and http sources exist only in a cluster)`,
      );
      continue;
    }
    const modelDir = isAbsolute(source.path) ? source.path : resolve(cwd, source.path);
    localModels.push({
      name: m.metadata.name,
      modelDir,
      ...(source.sha256 ? { sha256: source.sha256 } : {}),
      dimension: m.spec.dimension,
      encoderArgs: ["--model-dir", modelDir, ...encoderRuntimeArgs(runtime), ...encoderSpaceArgs(m.spec)],
      revision: encoderRevision(revisionInputOf(m.spec, LOCAL_IMAGE)),
      rollout: m.spec.rollout,
    });
  }

  const localIndexes: LocalIndex[] = [];
  for (const vi of indexes) {
    const who = `VectorIndex "${vi.metadata.name}"`;
    const model = models.find((m) => m.metadata.name === vi.spec.modelRef.name);
    if (!model) {
      const known = models.map((m) => m.metadata.name).join(", ") || "none";
      errors.push(
        `${who}: spec.modelRef.name "${vi.spec.modelRef.name}" names no EmbeddingModel in the file (have: ${known})`,
      );
      continue;
    }
    if (vi.spec.dimension !== undefined && vi.spec.dimension !== model.spec.dimension) {
      errors.push(
        `${who}: spec.dimension ${vi.spec.dimension} differs from EmbeddingModel "${model.metadata.name}" ` +
          `dimension ${model.spec.dimension}; remove spec.dimension or make them equal`,
      );
      continue;
    }
    const { hnsw } = vi.spec;
    const quality = localQuality(vi, others);
    if (typeof quality === "string") {
      errors.push(`${who}: ${quality}`);
      continue;
    }
    localIndexes.push({
      name: vi.metadata.name,
      model: model.metadata.name,
      metric: vi.spec.metric,
      dimension: model.spec.dimension,
      shards: shardNames(vi.spec.shards),
      replicas: vi.spec.replicas,
      writeQuorum: vi.spec.writeQuorum ?? "all",
      timeoutMs: vi.spec.router.timeoutMs,
      shardArgs: ["--dimension", String(model.spec.dimension), "--metric", vi.spec.metric, ...hnswArgs(hnsw)],
      rollout: vi.spec.rollout,
      ...(quality ? { quality } : {}),
      ...(vi.spec.snapshot ? { snapshot: vi.spec.snapshot } : {}),
      ...(vi.spec.restore ? { restore: vi.spec.restore } : {}),
    });
  }
  if (localModels.length === 0 && errors.length === 0)
    errors.push("the file declares no EmbeddingModel: nothing to serve");
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, plan: { models: localModels, indexes: localIndexes } };
}

/**
 * spec.quality for serve: the golden set is the key of a ConfigMap in the same file, as `kubectl
 * apply` of that file would create it. Returns the problem as text when it cannot be read.
 */
function localQuality(
  vi: VectorIndex,
  others: readonly Record<string, unknown>[],
): LocalQuality | string | undefined {
  const q = vi.spec.quality;
  if (!q) return undefined;
  const ref = q.goldenSet.configMapRef;
  const cm = others.find((o) => {
    const meta = o["metadata"] as { name?: unknown } | undefined;
    return o["kind"] === "ConfigMap" && meta?.name === ref.name;
  });
  const data = (cm?.["data"] ?? {}) as Record<string, unknown>;
  const text = data[ref.key];
  if (cm === undefined)
    return `spec.quality.goldenSet.configMapRef names ConfigMap "${ref.name}", which is not in the file; add it (kind: ConfigMap, data.${ref.key}: JSON Lines) or remove spec.quality`;
  if (typeof text !== "string")
    return `ConfigMap "${ref.name}" has no data key "${ref.key}" (spec.quality.goldenSet.configMapRef.key); add it as JSON Lines`;
  try {
    return { golden: parseGoldenSet(text), k: q.k, minRecall: q.minRecall };
  } catch (err) {
    return `ConfigMap "${ref.name}" key "${ref.key}": ${(err as Error).message}`;
  }
}

/** Where one shard replica keeps its database and checkpoints. */
export function shardDataDir(
  dataDir: string,
  index: string,
  generation: string,
  shard: string,
  replica: number,
): string {
  return join(dataDir, "indexes", index, generation, shard, `replica-${replica}`);
}

/** The router's `encoder` entry: stable, and during a rollout the canary with its weight. */
export interface EncoderRouting {
  url: string;
  revision?: string;
  canary?: { url: string; revision: string; weight: number };
}
