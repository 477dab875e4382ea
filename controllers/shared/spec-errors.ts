// Turning a failed parse into the InvalidSpec condition's message: the field path first, because
// that is what the user has to go and fix.
import { type EmbedopsResource, formatResourceError, parseResource } from "../../src/api/v1alpha1/index.js";
import { toJson } from "../../src/kube/compare.js";

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseAs<T extends EmbedopsResource>(obj: unknown, kind: T["kind"]): Parsed<T> {
  // The client deserializes metadata times into Dates; the schema (like the wire) has strings.
  const result = parseResource(toJson(obj));
  if (!result.ok) {
    const message = result.errors
      .map((e) => (e.path ? `${e.path}: ${e.message}` : formatResourceError(e)))
      .join("; ");
    return { ok: false, message };
  }
  if (result.value.kind !== kind)
    return { ok: false, message: `kind: expected ${kind}, got ${result.value.kind}` };
  return { ok: true, value: result.value as T };
}
