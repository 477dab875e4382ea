// The router's configuration file (JSON; in a cluster, a ConfigMap the operator writes). Validated
// strictly so a typo fails loudly at start or at reload instead of silently changing behaviour.
//
// Two shapes are accepted:
//   - one generation inline: { index, generation, fingerprint, dimension, metric, encoder, shards, ... }
//   - a list of one or two: { index, generations: [{ name, role, queryWeight?, fingerprint, ... }], ... }
//     While an index moves to a new model, generation N is the "active" one and N+1 the "candidate":
//     writes go to both (each embedded by its own encoder), `queryWeight` (integer percent, candidate
//     only, default 0) of the queries go to the candidate, the rest to the active (index-runtime.ts).
//     The two must differ in name and fingerprint; each has its own shard list (N+1 may be resharded).
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
export const fingerprint = z
  .string()
  .regex(
    /^[A-Za-z0-9:._-]{1,256}$/,
    "must be 1-256 characters of [A-Za-z0-9:._-], e.g. the encoder's /info fingerprint",
  );

export const httpUrl = z
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
  /**
   * Replicas (URLs listed in `replicas`) that are being seeded: they take every write and count for
   * the write quorum like the others, but no query and no document read goes to them until they
   * leave this list (embedops serve removes them once their catch-up from a peer is done).
   */
  syncing: z.array(httpUrl).optional(),
});

const generationFields = {
  fingerprint,
  dimension: z.int().min(1).max(65536),
  metric: z.enum(["cosine", "l2", "ip"]),
  encoder: encoderSchema.nullable(),
  shards: z.array(shardSchema).min(1, "needs at least one shard"),
};

export type GenerationRole = "active" | "candidate";

const generationSchema = z.strictObject({
  name: z.string().min(1),
  role: z.enum(["active", "candidate"], { error: 'must be "active" or "candidate"' }).default("active"),
  /** The candidate's percent of queries; absent means 0 (writes only, e.g. while it is backfilled). */
  queryWeight: z.int("must be an integer percent 0-100").min(0).max(100).optional(),
  // The list shape's old field: say what replaced it instead of "unknown field".
  weight: z
    .never({
      error:
        'was replaced by role ("active" or "candidate") and queryWeight (the candidate\'s percent of queries); remove it',
    })
    .optional(),
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
const listSchema = z.strictObject({
  ...commonFields,
  generations: z
    .array(generationSchema)
    .min(1, "needs one generation (role active)")
    .max(2, "at most two: the active generation and one candidate; promote or drop the candidate first"),
});

export interface Generation extends z.infer<typeof generationSchema> {
  /** Always set after parsing: 0 for the active generation. */
  queryWeight: number;
}
export type EncoderConfig = z.infer<typeof encoderSchema>;
export type ShardConfig = z.infer<typeof shardSchema>;
export type RouterConfig = Omit<z.infer<typeof listSchema>, "generations"> & {
  /** The active generation: it answers every query the candidate does not, and gates readiness. */
  generation: Generation;
  /** The generation the index moves to: written with the active one, `queryWeight` % of queries. */
  candidate?: Generation;
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

/** Checks one generation's own rules; `at` is its field path prefix ("" inline, "generations.1." in a list). */
function checkGeneration(gen: Generation, at: string, writeQuorum: "all" | number, source: string): void {
  const enc = gen.encoder;
  if (enc?.canary && enc.canary.revision === (enc.revision ?? DEFAULT_REVISION)) {
    throw new ConfigError(
      `${source} is invalid: ${at}encoder.canary.revision "${enc.canary.revision}" is the stable revision's name too; the two must differ or their metrics merge`,
    );
  }
  const names = new Set<string>();
  for (const shard of gen.shards) {
    if (names.has(shard.name))
      throw new ConfigError(`${source} is invalid: ${at}shards: shard name "${shard.name}" appears twice`);
    names.add(shard.name);
    const unknown = (shard.syncing ?? []).filter((u) => !shard.replicas.includes(u));
    if (unknown.length > 0)
      throw new ConfigError(
        `${source} is invalid: ${at}shards: shard "${shard.name}" lists syncing replica(s) ${unknown.join(", ")} that are not among its replicas; add them to replicas or remove them from syncing`,
      );
    if (shard.replicas.every((u) => shard.syncing?.includes(u)))
      throw new ConfigError(
        `${source} is invalid: ${at}shards: every replica of shard "${shard.name}" is syncing, so none could answer a query; a syncing replica is seeded from a serving one`,
      );
  }
  const maxReplicas = Math.min(...gen.shards.map((s) => s.replicas.length));
  if (writeQuorum !== "all" && writeQuorum > maxReplicas) {
    throw new ConfigError(
      `${source} is invalid: writeQuorum ${writeQuorum} is more than the ${maxReplicas} replica(s) of the smallest shard${at ? ` of generation ${gen.name}` : ""}; lower it or use "all"`,
    );
  }
}

/** The list shape's rules across entries: one active, names and fingerprints distinct, weights on the candidate. */
function activeAndCandidate(
  list: readonly z.infer<typeof generationSchema>[],
  source: string,
): { active: Generation; candidate?: Generation } {
  const bad = (message: string) => new ConfigError(`${source} is invalid: ${message}`);
  list.forEach((g, i) => {
    if (g.role === "active" && g.queryWeight !== undefined)
      throw bad(
        `generations.${i}.queryWeight: only the candidate has a query share (the active one answers the rest); remove it from generation ${g.name}`,
      );
  });
  const actives = list.filter((g) => g.role === "active");
  if (actives.length !== 1) {
    const which =
      actives.length === 0
        ? `none of ${list.map((g) => g.name).join(", ")} has role "active"`
        : `${actives.map((g) => g.name).join(" and ")} both have role "active"`;
    throw bad(
      `generations: exactly one generation must have role "active" (the default) and at most one role "candidate"; ${which}`,
    );
  }
  const [a, b] = list;
  if (a && b && a.name === b.name)
    throw bad(
      `generations.1.name: generations ${a.name} (${a.role}) and ${b.name} (${b.role}) have the same name; a new generation needs a new name`,
    );
  if (a && b && a.fingerprint === b.fingerprint)
    throw bad(
      `generations.1.fingerprint: generations ${a.name} and ${b.name} have the same fingerprint ${a.fingerprint}; a new generation exists for a new model, so its fingerprint must differ (for a new encoder image of the same model, use encoder.canary)`,
    );
  const norm = (g: z.infer<typeof generationSchema>): Generation => {
    const { weight: _removed, ...rest } = g;
    return { ...rest, queryWeight: g.queryWeight ?? 0 };
  };
  const candidate = list.find((g) => g.role === "candidate");
  return {
    active: norm(actives[0]!),
    ...(candidate ? { candidate: norm(candidate) } : {}),
  };
}

/** Validates a parsed JSON value; throws ConfigError listing every problem with its field path. */
export function parseRouterConfig(raw: unknown, source = "router config"): RouterConfig {
  const isList = typeof raw === "object" && raw !== null && "generations" in raw;
  const parsed = isList ? listSchema.safeParse(raw) : inlineSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${source} is invalid: ${describeIssues(parsed.error)}`);
  const value = parsed.data;
  let generation: Generation;
  let candidate: Generation | undefined;
  if ("generations" in value) {
    ({ active: generation, candidate } = activeAndCandidate(value.generations, source));
    value.generations.forEach((g, i) => {
      checkGeneration(
        g.role === "active" ? generation : candidate!,
        `generations.${i}.`,
        value.writeQuorum,
        source,
      );
    });
  } else {
    const { generation: name, fingerprint: fp, dimension, metric, encoder, shards } = value;
    generation = {
      name,
      role: "active",
      queryWeight: 0,
      fingerprint: fp,
      dimension,
      metric,
      encoder,
      shards,
    };
    checkGeneration(generation, "", value.writeQuorum, source);
  }
  return {
    index: value.index,
    timeoutMs: value.timeoutMs,
    writeQuorum: value.writeQuorum,
    hedge: value.hedge,
    apiKeys: value.apiKeys,
    checkIntervalMs: value.checkIntervalMs,
    generation,
    ...(candidate ? { candidate } : {}),
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
