// Helpers that attach Kubernetes OpenAPI extensions to zod schemas through `.meta()`, so a rule is
// declared next to the field it guards and reaches both the CRD and `parseResource`.
import type { z } from "zod";

export interface CelRule<V> {
  /** CEL expression evaluated by the API server with `self` (and `oldSelf` for transition rules). */
  readonly rule: string;
  /** What the user sees when the rule fails: say what is wrong and how to fix it. */
  readonly message: string;
  /** Relative path (".schedule") the API server reports the error on; also used by zod. */
  readonly fieldPath?: string;
  /**
   * The same rule in TypeScript, so `embedops serve` rejects what the API server rejects.
   * Absent for transition rules (`oldSelf`): only an update can break them, and a file has no
   * previous version.
   */
  readonly check?: (value: V) => boolean;
}

type Meta = Record<string, unknown>;

function currentMeta(schema: z.ZodType): Meta {
  return { ...(schema.meta() ?? {}) };
}

/** Attaches `x-kubernetes-validations` and the equivalent zod refinements. */
export function cel<T extends z.ZodType>(schema: T, rules: readonly CelRule<z.output<T>>[]): T {
  const meta = currentMeta(schema);
  const existing = (meta["x-kubernetes-validations"] as unknown[] | undefined) ?? [];
  const kube = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.fieldPath ? { fieldPath: r.fieldPath, reason: "FieldValueInvalid" } : {}),
  }));
  const withMeta = schema.meta({ ...meta, "x-kubernetes-validations": [...existing, ...kube] });
  const checked = rules.filter((r) => r.check !== undefined);
  if (checked.length === 0) return withMeta;
  return withMeta.superRefine((value, ctx) => {
    for (const r of checked) {
      if (r.check?.(value as z.output<T>)) continue;
      const path = r.fieldPath ? r.fieldPath.replace(/^\./, "").split(".") : [];
      ctx.addIssue({ code: "custom", message: r.message, path });
    }
  }) as T;
}

/** A list whose items are merged by `keys` under server-side apply (like `conditions` by `type`). */
export function listMap<T extends z.ZodType>(schema: T, keys: readonly string[]): T {
  return schema.meta({
    ...currentMeta(schema),
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": [...keys],
  });
}

export const INT_OR_STRING = "x-kubernetes-int-or-string";
