// The common query bodies checked by hand. zod's strict object with a union, refinements and defaults
// is the single source of what a query may hold (request-schemas.ts) and of every 400's wording; this
// accepts only bodies it can vouch for (known keys, right types, in range, no filter) and returns what
// querySchema would, or undefined to let querySchema decide. Table-tested against querySchema.
import { MAX_EF, MAX_K, MAX_TEXT_CHARS, type QueryRequest } from "./request-schemas.js";

const fingerprintRe = /^[A-Za-z0-9:._-]{1,256}$/;

function intIn(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max;
}

function numberArray(value: readonly unknown[]): value is number[] {
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== "number") return false;
  return true;
}

export function fastQueryRequest(body: unknown): QueryRequest | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const q: QueryRequest = { k: 10, includeText: false, includeMetadata: true, allowPartial: false };
  const b = body as Record<string, unknown>;
  for (const key in b) {
    const value = b[key];
    switch (key) {
      case "vector":
        if (typeof value === "string" || (Array.isArray(value) && numberArray(value))) q.vector = value;
        else return undefined;
        break;
      case "text":
        if (typeof value !== "string" || value.length < 1 || value.length > MAX_TEXT_CHARS) return undefined;
        q.text = value;
        break;
      case "k":
        if (!intIn(value, 1, MAX_K)) return undefined;
        q.k = value;
        break;
      case "ef":
        if (!intIn(value, 1, MAX_EF)) return undefined;
        q.ef = value;
        break;
      case "includeText":
      case "includeMetadata":
      case "allowPartial":
        if (typeof value !== "boolean") return undefined;
        q[key] = value;
        break;
      case "fingerprint":
        if (typeof value !== "string" || !fingerprintRe.test(value)) return undefined;
        q.fingerprint = value;
        break;
      default:
        // filter (nested, rarely on the hot path), unknown keys, inherited keys: querySchema decides.
        return undefined;
    }
  }
  if ((q.text === undefined) === (q.vector === undefined)) return undefined;
  if (q.fingerprint !== undefined && q.text !== undefined) return undefined;
  return q;
}
