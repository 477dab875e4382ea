// Turns zod issues into the messages a user of kubectl expects: the field path, then what is wrong
// with it and what would be right.
import { z } from "zod";

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

export function formatPath(path: Path): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function valueAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

function unwrap(schema: z.ZodType): z.ZodType {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodNullable
  ) {
    return unwrap(schema.unwrap() as z.ZodType);
  }
  return schema;
}

/** The keys the object schema at `path` allows, to suggest the intended one for a typo. */
export function allowedKeys(schema: z.ZodType, path: Path): string[] {
  let cur = unwrap(schema);
  for (const part of path) {
    if (cur instanceof z.ZodObject && typeof part === "string") {
      const next = cur.shape[part] as z.ZodType | undefined;
      if (!next) return [];
      cur = unwrap(next);
    } else if (cur instanceof z.ZodArray && typeof part === "number") {
      cur = unwrap(cur.element as z.ZodType);
    } else {
      return [];
    }
  }
  return cur instanceof z.ZodObject ? Object.keys(cur.shape) : [];
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

// The key itself is the last element of the reported path, so the message does not repeat it.
function unknownField(key: string, allowed: string[]): string {
  // A third of the length: "shard" finds "shards", but "ef" does not find "m".
  const tolerance = Math.max(1, Math.floor(key.length / 3));
  const near = allowed
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .filter(({ d }) => d <= tolerance)
    .sort((x, y) => x.d - y.d)[0];
  if (near) return `unknown field; did you mean "${near.k}"?`;
  return allowed.length > 0 ? `unknown field (known fields: ${allowed.join(", ")})` : "unknown field";
}

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function bound(issue: Issue & { code: "too_small" | "too_big" }, input: unknown): string {
  const small = issue.code === "too_small";
  const n = Number(issue.code === "too_small" ? issue.minimum : issue.maximum);
  const inclusive = issue.inclusive !== false;
  switch (issue.origin) {
    case "string":
      if (small && n === 1) return "must not be empty";
      return `must be ${small ? "at least" : "at most"} ${n} characters`;
    case "array":
      return `must have ${small ? "at least" : "at most"} ${n} item${n === 1 ? "" : "s"}`;
    default: {
      const op = small ? (inclusive ? ">=" : ">") : inclusive ? "<=" : "<";
      return `must be ${op} ${n}${input === undefined ? "" : `, got ${String(input)}`}`;
    }
  }
}

/** One message per problem; an unrecognized_keys issue yields one per unknown key. */
export function issueMessages(
  issue: Issue,
  root: unknown,
  schema: z.ZodType,
): { path: string; message: string }[] {
  const input = valueAt(root, issue.path);
  const at = (message: string, path: Path = issue.path) => ({ path: formatPath(path), message });
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(schema, issue.path);
      return issue.keys.map((k) => at(unknownField(k, allowed), [...issue.path, k]));
    }
    case "invalid_type":
      if (input === undefined) return [at("required field is missing")];
      return [
        at(
          `must be ${issue.expected === "int" ? "an integer" : `of type ${issue.expected}`}, got ${describeValue(input)}`,
        ),
      ];
    case "too_small":
    case "too_big":
      return [at(bound(issue, input))];
    case "invalid_value": {
      if (input === undefined) return [at("required field is missing")];
      const options = issue.values.map((v) => JSON.stringify(v));
      return [at(options.length === 1 ? `must be ${options[0]}` : `must be one of ${options.join(", ")}`)];
    }
    case "invalid_format":
      // Our regexes carry their own explanation; zod's default quotes the raw pattern.
      return [
        at(issue.message.startsWith("Invalid") ? `has an invalid format (${issue.format})` : issue.message),
      ];
    case "invalid_union":
      if (input === undefined) return [at("required field is missing")];
      return [at(issue.message)];
    default:
      return [at(issue.message)];
  }
}
