// The backfill's plan file: which generation to copy (N: its shards), where to (N+1: its shards and
// the candidate encoder), and how fast. Written by the operator (a Job's ConfigMap) or by serve; strict
// so a typo fails before a single document moves, every problem named by its field path.
import { z } from "zod";
import { fingerprint, httpUrl } from "../router/config.js";

const shardSchema = z.strictObject({
  name: z.string().min(1, "must not be empty: the shard's name, e.g. shard-0"),
  replicas: z.array(httpUrl).min(1, "needs at least one replica URL"),
});

const shards = z.array(shardSchema).min(1, "needs at least one shard: {name, replicas: [url, ...]}");
const generation = z.string().min(1, "must name the generation, e.g. g-5d8f7c0a1b2c");

const planSchema = z.strictObject({
  index: z.string().min(1, "must name the index"),
  from: z.strictObject({ generation, fingerprint, shards }),
  to: z.strictObject({
    generation,
    fingerprint,
    shards,
    encoder: z.strictObject({ url: httpUrl }),
  }),
  writeQuorum: z.union([z.literal("all"), z.int().min(1)], {
    error: 'must be "all" or a number of replicas (an integer >= 1)',
  }),
  maxDocumentsPerSecond: z
    .number({ error: "must be a number of documents per second, e.g. 200" })
    .positive("must be > 0; a backfill that must not run is not started"),
  batchSize: z.int("must be an integer").min(1).max(1000).default(64),
  latencyGuard: z
    .strictObject({
      metricsUrl: httpUrl,
      revision: z.string().min(1).optional(),
      maxP99Ms: z.number().positive("must be > 0 milliseconds, the stable's p99 SLO"),
      /** How often the p99 is read (one window). */
      intervalSeconds: z.number().min(1).default(5),
    })
    .optional(),
});

export type Plan = z.output<typeof planSchema>;
export type PlanShard = Plan["from"]["shards"][number];

export class PlanError extends Error {
  override name = "PlanError";
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("; ");
}

/** The rules across fields that zod's per-field checks cannot say. */
function crossChecks(plan: Plan): string[] {
  const problems: string[] = [];
  if (plan.from.generation === plan.to.generation)
    problems.push(
      `to.generation: is "${plan.to.generation}" like from.generation; the backfill copies into a new generation`,
    );
  if (plan.from.fingerprint === plan.to.fingerprint)
    problems.push(
      "to.fingerprint: equals from.fingerprint; the same model needs no backfill (an encoder canary is not a generation)",
    );
  for (const side of ["from", "to"] as const) {
    const seen = new Set<string>();
    plan[side].shards.forEach((s, i) => {
      if (seen.has(s.name))
        problems.push(`${side}.shards.${i}.name: "${s.name}" appears twice; shard names must be unique`);
      seen.add(s.name);
    });
  }
  if (plan.writeQuorum !== "all") {
    plan.to.shards.forEach((s, i) => {
      if (typeof plan.writeQuorum === "number" && plan.writeQuorum > s.replicas.length)
        problems.push(
          `writeQuorum: ${plan.writeQuorum} exceeds the ${s.replicas.length} replica(s) of to.shards.${i} (${s.name}); lower it or use "all"`,
        );
    });
  }
  return problems;
}

/** Validates a parsed JSON value; throws PlanError listing every problem with its field path. */
export function parsePlan(raw: unknown, source = "backfill plan"): Plan {
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) throw new PlanError(`${source} is invalid: ${describeIssues(parsed.error)}`);
  const problems = crossChecks(parsed.data);
  if (problems.length > 0) throw new PlanError(`${source} is invalid: ${problems.join("; ")}`);
  return parsed.data;
}

/** JSON text → Plan; a syntax error names the source too. */
export function parsePlanText(text: string, source = "backfill plan"): Plan {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PlanError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePlan(raw, source);
}

/** Replicas that must acknowledge a write to a shard with `replicas` replicas. */
export function quorumOf(writeQuorum: Plan["writeQuorum"], replicas: number): number {
  return writeQuorum === "all" ? replicas : Math.min(writeQuorum, replicas);
}
