// Metadata filters: `{"key": value}` equality and `{"key": {"in": [v1, v2]}}` on top-level metadata
// keys; several keys are ANDed. Values are JSON scalars; a filter never matches nested objects/arrays.
import { z } from "zod";

export type Scalar = string | number | boolean | null;
export type Condition = { readonly eq: Scalar } | { readonly in: readonly Scalar[] };
/** Parsed filter: one condition per key, ANDed. Empty means "no filter". */
export type Filter = ReadonlyMap<string, Condition>;

export const maxFilterKeys = 32;
export const maxInValues = 1024;

const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const conditionSchema = z.union(
  [scalarSchema, z.strictObject({ in: z.array(scalarSchema).min(1).max(maxInValues) })],
  {
    error: `must be a string, number, boolean or null (equality), or {"in": [1..${maxInValues} such values]}`,
  },
);

export const filterSchema = z
  .record(z.string().min(1, { error: "filter keys must not be empty" }).max(256), conditionSchema)
  .refine((f) => Object.keys(f).length <= maxFilterKeys, { error: `at most ${maxFilterKeys} keys` });

export type FilterInput = z.infer<typeof filterSchema>;

export function toFilter(input: FilterInput | undefined): Filter {
  const out = new Map<string, Condition>();
  if (!input) return out;
  for (const [key, cond] of Object.entries(input)) {
    if (cond !== null && typeof cond === "object") out.set(key, { in: cond.in });
    else out.set(key, { eq: cond });
  }
  return out;
}

/** A stable key for a scalar, so "1" and 1 and true stay distinct in the inverted index. */
export function scalarKey(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return `s:${value}`;
    case "number":
      return Number.isFinite(value) ? `n:${value}` : undefined;
    case "boolean":
      return value ? "b:1" : "b:0";
    case "object":
      return value === null ? "z:" : undefined;
    default:
      return undefined;
  }
}

/** The reference semantics; FilterIndex must agree with it (the unit tests check both). */
export function matches(metadata: Readonly<Record<string, unknown>> | undefined, filter: Filter): boolean {
  for (const [key, cond] of filter) {
    if (!metadata || !Object.hasOwn(metadata, key)) return false;
    const got = scalarKey(metadata[key]);
    if (got === undefined) return false;
    if ("eq" in cond) {
      if (got !== scalarKey(cond.eq)) return false;
    } else if (!cond.in.some((v) => scalarKey(v) === got)) return false;
  }
  return true;
}
