// The router's configuration file (JSON; in a cluster, a ConfigMap the operator writes). Validated
// strictly so a typo fails loudly at start or at reload instead of silently changing behaviour.
//
// Two shapes are accepted:
//   - one generation inline: { index, generation, fingerprint, dimension, metric, encoder, shards, ... }
//   - a list: { index, generations: [{ name, weight, fingerprint, ... }], ... } — the shape a canary
//     between generations will use. Only one generation is served today.
//
// A generation's encoder may run two revisions of the same model side by side (a traffic canary: new
// image, threads, batching; the same fingerprint):
//   encoder: { url, revision?, canary?: { url, revision, weight } }
// `weight` (integer percent, 0-100) of the texts to embed — one decision per query or per ingest
// request, whose whole batch goes to one revision — go to the canary by an exact deterministic split
// (revision-split.ts), the rest to `url`. `revision` names the stable one in metrics (default
// "stable"); the canary's must differ. `{ url }` alone is today's one-encoder config. Both revisions
// must report the generation's fingerprint on /info, or the one that does not is not used; a failed
// canary call is counted against the canary and retried once on stable (encoder-revisions.ts).
import { readFile } from "node:fs/promises";
import { z } from "zod";

// The same rule the shard applies to --fingerprint; in practice the sha256 hex of the encoder's /info.
const fingerprint = z
  .string()
  .regex(
    /^[A-Za-z0-9:._-]{1,256}$/,
    "must be 1-256 characters of [A-Za-z0-9:._-], e.g. the encoder's /info fingerprint",
  );

const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http(s) URL such as http://127.0.0.1:8080" })
  .transform((u) => u.replace(/\/+$/, ""));

/** A revision name as it appears in metric labels: the operator writes the runtime spec's hash. */
const revisionName = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of [A-Za-z0-9._-], e.g. the runtime spec's hash");

/** The stable revision's metric label when the config names none. */
export const DEFAULT_REVISION = "stable";

const encoderSchema = z.strictObject({
  url: httpUrl,
  revision: revisionName.optional(),
  canary: z
    .strictObject({
      url: httpUrl,
      revision: revisionName,
      weight: z.int("must be an integer percent").min(0).max(100),
    })
    .optional(),
});

const shardSchema = z.strictObject({
  name: z.string().min(1, "must not be empty"),
  replicas: z.array(httpUrl).min(1, "needs at least one replica URL"),
});

const generationFields = {
  fingerprint,
  dimension: z.int().min(1).max(65536),
  metric: z.enum(["cosine", "l2", "ip"]),
  encoder: encoderSchema.nullable(),
  shards: z.array(shardSchema).min(1, "needs at least one shard"),
};

const generationSchema = z.strictObject({
  name: z.string().min(1),
  weight: z.number().min(0).max(100).default(100),
  ...generationFields,
});

const commonFields = {
  index: z.string().min(1),
  timeoutMs: z.int().min(1).max(600_000).default(2000),
  writeQuorum: z.union([z.literal("all"), z.int().min(1)]).default("all"),
  hedge: z
    .strictObject({
      enabled: z.boolean().default(true),
      minDelayMs: z.number().min(0).default(2),
      minSamples: z.int().min(1).default(20),
    })
    .default({ enabled: true, minDelayMs: 2, minSamples: 20 }),
  apiKeys: z.array(z.string().min(8, "API keys must be at least 8 characters")).optional(),
  /** How often the encoder's /info is re-checked and replica health probed. */
  checkIntervalMs: z.int().min(100).default(5000),
};

const inlineSchema = z.strictObject({ ...commonFields, generation: z.string().min(1), ...generationFields });
const listSchema = z.strictObject({ ...commonFields, generations: z.array(generationSchema).min(1) });

export type Generation = z.infer<typeof generationSchema>;
export type EncoderConfig = z.infer<typeof encoderSchema>;
export type ShardConfig = z.infer<typeof shardSchema>;
export type RouterConfig = Omit<z.infer<typeof listSchema>, "generations"> & {
  /** The generation served; the list shape keeps room for weighted canaries. */
  generation: Generation;
  /**
   * Bearer token for the encoder, from --encoder-key-file: never from the config file, which in a
   * cluster is a ConfigMap, no place for a key.
   */
  encoderApiKey?: string;
};

/** Keys that come from files beside the config (Secrets in a cluster), not from the config itself. */
export interface RouterKeys {
  /** Accepted in addition to the config's apiKeys. */
  readonly apiKeys?: readonly string[];
  readonly encoderApiKey?: string;
}

/** The config with the keys of RouterKeys added; applied at start and to every reloaded config. */
export function withKeys(config: RouterConfig, keys: RouterKeys): RouterConfig {
  const apiKeys = [...(config.apiKeys ?? []), ...(keys.apiKeys ?? [])];
  return {
    ...config,
    apiKeys: apiKeys.length > 0 ? apiKeys : config.apiKeys,
    ...(keys.encoderApiKey !== undefined ? { encoderApiKey: keys.encoderApiKey } : {}),
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("; ");
}

/** Validates a parsed JSON value; throws ConfigError listing every problem with its field path. */
export function parseRouterConfig(raw: unknown, source = "router config"): RouterConfig {
  const isList = typeof raw === "object" && raw !== null && "generations" in raw;
  const parsed = isList ? listSchema.safeParse(raw) : inlineSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source} is invalid: ${describeIssues(parsed.error)}`);
  const value = parsed.data;
  let common: z.infer<typeof inlineSchema> | z.infer<typeof listSchema>;
  let generation: Generation;
  if ("generations" in value) {
    if (value.generations.length > 1) {
      throw new ConfigError(
        `${source} is invalid: generations lists ${value.generations.length} generations; this router serves exactly one (weighted canaries are not implemented yet)`,
      );
    }
    generation = value.generations[0]!;
    common = value;
  } else {
    const { generation: name, fingerprint: fp, dimension, metric, encoder, shards } = value;
    generation = { name, weight: 100, fingerprint: fp, dimension, metric, encoder, shards };
    common = value;
  }
  const enc = generation.encoder;
  if (enc?.canary && enc.canary.revision === (enc.revision ?? DEFAULT_REVISION)) {
    throw new ConfigError(
      `${source} is invalid: encoder.canary.revision "${enc.canary.revision}" is the stable revision's name too; the two must differ or their metrics merge`,
    );
  }
  const names = new Set<string>();
  for (const shard of generation.shards) {
    if (names.has(shard.name))
      throw new ConfigError(`${source} is invalid: shard name "${shard.name}" appears twice`);
    names.add(shard.name);
  }
  const maxReplicas = Math.min(...generation.shards.map((s) => s.replicas.length));
  if (common.writeQuorum !== "all" && common.writeQuorum > maxReplicas) {
    throw new ConfigError(
      `${source} is invalid: writeQuorum ${common.writeQuorum} is more than the ${maxReplicas} replica(s) of the smallest shard; lower it or use "all"`,
    );
  }
  return {
    index: common.index,
    timeoutMs: common.timeoutMs,
    writeQuorum: common.writeQuorum,
    hedge: common.hedge,
    apiKeys: common.apiKeys,
    checkIntervalMs: common.checkIntervalMs,
    generation,
  };
}

export async function loadRouterConfig(path: string): Promise<{ config: RouterConfig; text: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read router config ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`router config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return { config: parseRouterConfig(raw, `router config ${path}`), text };
}
