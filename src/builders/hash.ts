// Short content hashes for names and pod-template annotations. Built on canonical JSON, so the same
// value always hashes the same whatever order its keys were written in: a re-apply of the same YAML
// yields the same hash and rolls nothing.
import { createHash } from "node:crypto";
import { canonicalJson } from "../kube/compare.js";

/** First `length` hex characters of sha256(canonical JSON of value). */
export function contentHash(value: unknown, length = 10): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, length);
}

/** First `length` hex characters of sha256(text). */
export function textHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}
