// The encoder's embedding-space flags (--dimension, --pooling, --normalize, --max-sequence-length,
// --query-prefix, --document-prefix): what src/core/role-args.ts encoderSpaceArgs writes from an
// EmbeddingModel spec, read back into the settings src/encoder/space-settings.ts checks.
import type { Pooling } from "../encoder/engine-types.js";
import type { SpaceSettings } from "../encoder/space-settings.js";
import { envName, pick, pickInt, UsageError } from "./options.js";

/** parseArgs options of the space flags. */
export const spaceFlags = {
  dimension: { type: "string" },
  pooling: { type: "string" },
  normalize: { type: "string" },
  "max-sequence-length": { type: "string" },
  "query-prefix": { type: "string" },
  "document-prefix": { type: "string" },
} as const;

const isPooling = (s: string): s is Pooling => s === "mean" || s === "cls";

/** The spec's settings from flags (or EMBEDOPS_*); one not given leaves the directory's value in force. */
export function spaceSettings(v: Record<string, unknown>): SpaceSettings {
  const int = (flag: string, min: number, max: number) =>
    pick(v, flag) === undefined ? undefined : pickInt(v, flag, 0, min, max);
  const pooling = pick(v, "pooling");
  if (pooling !== undefined && !isPooling(pooling)) {
    throw new UsageError(`--pooling must be mean or cls, got "${pooling}"`);
  }
  const normalize = pick(v, "normalize");
  if (normalize !== undefined && normalize !== "true" && normalize !== "false") {
    throw new UsageError(`--normalize must be true or false, got "${normalize}"`);
  }
  return {
    // The bounds of embedops-model.json's own fields (src/encoder/model-dir.ts).
    dimension: int("dimension", 1, 65536),
    pooling,
    normalize: normalize === undefined ? undefined : normalize === "true",
    maxSequenceLength: int("max-sequence-length", 2, 1_000_000),
    queryPrefix: pickPrefix(v, "query-prefix"),
    documentPrefix: pickPrefix(v, "document-prefix"),
  };
}

/**
 * Unlike every other flag, an empty prefix is a value, not "unset": a spec without a query prefix
 * must still be checked against a directory that declares one.
 */
function pickPrefix(v: Record<string, unknown>, flag: string): string | undefined {
  const given = v[flag];
  return typeof given === "string" ? given : process.env[envName(flag)];
}
