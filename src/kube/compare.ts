// Structural comparisons behind "write only when something changed".

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Plain JSON of a value: Dates become strings, undefined members vanish, as on the wire. */
export function toJson(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * True when every field set in `desired` has the same value in `observed`. Fields the API server
 * defaulted (present only in observed) do not count as drift; lists must match element by element.
 */
export function isSubset(desired: unknown, observed: unknown): boolean {
  if (desired === undefined || desired === null) return true;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(observed) &&
      desired.length === observed.length &&
      desired.every((d, i) => isSubset(d, observed[i]))
    );
  }
  if (isObject(desired)) {
    if (!isObject(observed)) return false;
    return Object.entries(desired).every(([k, v]) => isSubset(v, observed[k]));
  }
  return desired === observed;
}

/** JSON with keys sorted at every level: equal objects give equal text, so equal hashes. */
export function canonicalJson(value: unknown): string {
  const sort = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort(v[k] as Json)]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(toJson(value)));
}
