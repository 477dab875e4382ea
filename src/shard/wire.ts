// Decoding and validating what clients send: JSON bodies (vectors as number arrays or base64 of
// little-endian float32), the binary points format, and octet-stream queries. Pure: bytes/objects in,
// typed values or a 400 naming the field out.
import { endianness } from "node:os";
import { z } from "zod";
import { badRequest, type HttpError } from "./errors.js";
import { type Filter, filterSchema, toFilter } from "./filter.js";
import type { Metric } from "./score.js";

// Float32Array views use the platform's byte order; the wire format is little-endian. Every platform
// Node ships for (x64, arm64) is little-endian, so a copy suffices; refuse loudly rather than misread.
if (endianness() !== "LE")
  throw new Error("embedops shard needs a little-endian CPU (the wire format is float32 LE)");

export const maxBatchPoints = 10_000;
export const maxIdLength = 256;
export const maxTextChars = 1_000_000;
export const maxMetadataBytes = 64 * 1024;
export const kRange = { min: 1, max: 1000 } as const;
export const efRange = { min: 1, max: 10_000 } as const;

export interface DecodedPoint {
  id: string;
  vector: Float32Array;
  metadata: Record<string, unknown> | null;
  text: string | null;
}

export interface ParsedQuery {
  vector: Float32Array;
  k: number;
  ef: number | undefined;
  filter: Filter;
  includeText: boolean;
  includeMetadata: boolean;
  /** Score every live vector (filters still apply) instead of walking the graph: the recall gate's truth. */
  exact: boolean;
}

const idSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must not be empty" })
  .max(maxIdLength, { error: `must be at most ${maxIdLength} characters` });
const vectorSchema = z.union([z.array(z.number()), z.string()], {
  error: "must be an array of numbers or a base64 string of little-endian float32",
});
const metadataSchema = z
  .record(z.string(), z.unknown(), { error: "must be a JSON object" })
  .refine((m) => Buffer.byteLength(JSON.stringify(m)) <= maxMetadataBytes, {
    error: `must serialise to at most ${maxMetadataBytes} bytes of JSON`,
  });
const textSchema = z.string().max(maxTextChars, { error: `must be at most ${maxTextChars} characters` });

const jsonPointSchema = z.strictObject({
  id: idSchema,
  vector: vectorSchema,
  metadata: metadataSchema.optional(),
  text: textSchema.optional(),
});
const batchSize = { min: 1, max: maxBatchPoints };
export const upsertBodySchema = z.strictObject({
  points: z
    .array(jsonPointSchema)
    .min(batchSize.min, { error: "must hold at least one point" })
    .max(batchSize.max, { error: `must hold at most ${maxBatchPoints} points; split the batch` }),
});

const binaryHeaderSchema = z.strictObject({
  points: z
    .array(z.strictObject({ id: idSchema, metadata: metadataSchema.optional(), text: textSchema.optional() }))
    .min(batchSize.min, { error: "must hold at least one point" })
    .max(batchSize.max, { error: `must hold at most ${maxBatchPoints} points; split the batch` }),
});

export const deleteBodySchema = z.strictObject({
  ids: z.array(idSchema).min(1, { error: "must hold at least one id" }).max(maxBatchPoints),
});

const kSchema = z
  .number({ error: "must be a number" })
  .int({ error: `must be an integer between ${kRange.min} and ${kRange.max}` })
  .min(kRange.min, { error: `must be an integer between ${kRange.min} and ${kRange.max}` })
  .max(kRange.max, { error: `must be an integer between ${kRange.min} and ${kRange.max}` });
const efSchema = z
  .number({ error: "must be a number" })
  .int({ error: `must be an integer between ${efRange.min} and ${efRange.max}` })
  .min(efRange.min, { error: `must be an integer between ${efRange.min} and ${efRange.max}` })
  .max(efRange.max, { error: `must be an integer between ${efRange.min} and ${efRange.max}` });

const queryBodySchema = z.strictObject({
  vector: vectorSchema,
  k: kSchema.default(10),
  ef: efSchema.optional(),
  filter: filterSchema.optional(),
  includeText: z.boolean().default(false),
  includeMetadata: z.boolean().default(true),
  exact: z.boolean().default(false),
});

/** `points[3].vector` from ["points", 3, "vector"]. */
export function fieldPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out === "" ? "body" : out;
}

/** The first zod issue as a 400: unknown keys name the key itself, everything else its path. */
export function zodBadRequest(error: z.ZodError, prefix = ""): HttpError {
  const issue = error.issues[0];
  if (!issue) return badRequest(prefix || "body", "invalid");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    return badRequest(
      fieldPath([...issue.path, key], prefix),
      "unknown field; remove it (the schema is strict)",
    );
  }
  return badRequest(fieldPath(issue.path, prefix), issue.message);
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, prefix = ""): T {
  const r = schema.safeParse(value);
  if (!r.success) throw zodBadRequest(r.error, prefix);
  return r.data;
}

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Copy little-endian float32 bytes into an aligned Float32Array (sqlite/HTTP buffers may be unaligned). */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, bytes.byteLength / 4);
}

export function float32ToBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function checkVector(v: Float32Array, dimension: number, metric: Metric, field: string): Float32Array {
  if (v.length !== dimension) {
    throw badRequest(field, `expected ${dimension} float32 values (the shard's dimension), got ${v.length}`);
  }
  let sq = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (!Number.isFinite(x)) {
      throw badRequest(field, `value [${i}] is not a finite float32 (NaN, Infinity or beyond ±3.4e38)`);
    }
    sq += x * x;
  }
  if (metric === "cosine" && sq === 0) {
    throw badRequest(field, "is the zero vector; cosine similarity is undefined for it");
  }
  return v;
}

export function decodeVector(
  value: number[] | string,
  dimension: number,
  metric: Metric,
  field: string,
): Float32Array {
  if (typeof value === "string") {
    if (!base64Re.test(value)) throw badRequest(field, "is not valid base64 (standard alphabet, padded)");
    const bytes = Buffer.from(value, "base64");
    if (bytes.byteLength % 4 !== 0) {
      throw badRequest(field, `base64 decodes to ${bytes.byteLength} bytes, not a whole number of float32`);
    }
    return checkVector(float32FromBytes(bytes), dimension, metric, field);
  }
  return checkVector(Float32Array.from(value), dimension, metric, field);
}

export function decodeJsonPoints(body: unknown, dimension: number, metric: Metric): DecodedPoint[] {
  const parsed = parseWith(upsertBodySchema, body);
  return parsed.points.map((p, i) => ({
    id: p.id,
    vector: decodeVector(p.vector, dimension, metric, `points[${i}].vector`),
    metadata: p.metadata ?? null,
    text: p.text ?? null,
  }));
}

/**
 * application/x-embedops-points: uint32 LE header length, header JSON {"points":[{id,metadata,text}]},
 * then N×dimension float32 LE in the header's order. No per-number parsing: the fast path for ingest.
 */
export function decodeBinaryPoints(body: Uint8Array, dimension: number, metric: Metric): DecodedPoint[] {
  if (body.byteLength < 4) throw badRequest("body", "too short: expected a uint32 LE header length first");
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const headerLength = view.getUint32(0, true);
  if (headerLength > body.byteLength - 4) {
    throw badRequest(
      "header",
      `declared length ${headerLength} exceeds the ${body.byteLength - 4} bytes that follow`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(body.buffer, body.byteOffset + 4, headerLength).toString("utf8"));
  } catch (err) {
    throw badRequest("header", `is not valid JSON (${(err as Error).message})`);
  }
  const parsed = parseWith(binaryHeaderSchema, header, "header");
  const n = parsed.points.length;
  const vectorBytes = body.byteLength - 4 - headerLength;
  const expected = n * dimension * 4;
  if (vectorBytes !== expected) {
    throw badRequest(
      "vectors",
      `expected ${n} points × ${dimension} dimensions × 4 bytes = ${expected} bytes after the header, got ${vectorBytes}`,
    );
  }
  const all = float32FromBytes(body.subarray(4 + headerLength));
  return parsed.points.map((p, i) => ({
    id: p.id,
    vector: checkVector(all.slice(i * dimension, (i + 1) * dimension), dimension, metric, `vectors[${i}]`),
    metadata: p.metadata ?? null,
    text: p.text ?? null,
  }));
}

/** Encode points in the binary format (used by tests, benchmarks and the router). */
export function encodeBinaryPoints(
  points: readonly {
    id: string;
    vector: ArrayLike<number>;
    metadata?: Record<string, unknown>;
    text?: string;
  }[],
): Buffer {
  const header = Buffer.from(
    JSON.stringify({ points: points.map((p) => ({ id: p.id, metadata: p.metadata, text: p.text })) }),
  );
  const dim = points[0]?.vector.length ?? 0;
  const vectors = new Float32Array(points.length * dim);
  points.forEach((p, i) => {
    vectors.set(Array.from(p.vector), i * dim);
  });
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.byteLength, 0);
  return Buffer.concat([len, header, float32ToBytes(vectors)]);
}

export function decodeDeleteIds(body: unknown): string[] {
  return parseWith(deleteBodySchema, body).ids;
}

export function decodeJsonQuery(body: unknown, dimension: number, metric: Metric): ParsedQuery {
  const q = parseWith(queryBodySchema, body);
  return {
    vector: decodeVector(q.vector, dimension, metric, "vector"),
    k: q.k,
    ef: q.ef,
    filter: toFilter(q.filter),
    includeText: q.includeText,
    includeMetadata: q.includeMetadata,
    exact: q.exact,
  };
}

const boolParam = z
  .enum(["true", "false", "1", "0"], { error: 'must be "true" or "false"' })
  .transform((v) => v === "true" || v === "1");
const intParam = (schema: z.ZodNumber) =>
  z
    .string()
    .regex(/^-?\d+$/, { error: "must be an integer" })
    .transform((s) => Number(s))
    .pipe(schema);
const queryParamsSchema = z.strictObject({
  k: intParam(kSchema).optional(),
  ef: intParam(efSchema).optional(),
  filter: z.string().optional(),
  includeText: boolParam.optional(),
  includeMetadata: boolParam.optional(),
  exact: boolParam.optional(),
});

/** application/octet-stream query: the body is the float32 LE vector, the rest is in the query string. */
export function decodeBinaryQuery(
  body: Uint8Array,
  params: Record<string, unknown>,
  dimension: number,
  metric: Metric,
): ParsedQuery {
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== "string") throw badRequest(key, "must appear once in the query string");
  }
  const p = parseWith(queryParamsSchema, params);
  let filter: Filter = new Map();
  if (p.filter !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(p.filter);
    } catch (err) {
      throw badRequest("filter", `is not valid JSON (${(err as Error).message})`);
    }
    filter = toFilter(parseWith(filterSchema, raw, "filter"));
  }
  return binaryQuery(body, p, filter, dimension, metric);
}

function binaryQuery(
  body: Uint8Array,
  p: {
    k?: number | undefined;
    ef?: number | undefined;
    includeText?: boolean;
    includeMetadata?: boolean;
    exact?: boolean;
  },
  filter: Filter,
  dimension: number,
  metric: Metric,
): ParsedQuery {
  if (body.byteLength % 4 !== 0) {
    throw badRequest("body", `${body.byteLength} bytes is not a whole number of float32`);
  }
  return {
    vector: checkVector(float32FromBytes(body), dimension, metric, "body"),
    k: p.k ?? 10,
    ef: p.ef,
    filter,
    includeText: p.includeText ?? false,
    includeMetadata: p.includeMetadata ?? true,
    exact: p.exact ?? false,
  };
}

const plainInt = /^\d{1,6}$/;

function fastInt(value: string, range: { min: number; max: number }): number | undefined {
  if (!plainInt.test(value)) return undefined;
  const n = Number(value);
  return n >= range.min && n <= range.max ? n : undefined;
}

function fastBool(value: string): boolean | undefined {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}

/**
 * The hot path of decodeBinaryQuery: the query string the router sends (k, ef, includeText,
 * includeMetadata, and the gate's exact, each once and in range, no filter) checked by hand instead of by zod. Anything
 * else returns undefined and the caller uses decodeBinaryQuery, whose 400s name the field; for what
 * this accepts both give the same ParsedQuery (table-tested).
 */
export function decodeBinaryQueryFast(
  body: Uint8Array,
  params: Readonly<Record<string, string | string[] | undefined>>,
  dimension: number,
  metric: Metric,
): ParsedQuery | undefined {
  let k: number | undefined;
  let ef: number | undefined;
  let includeText: boolean | undefined;
  let includeMetadata: boolean | undefined;
  let exact: boolean | undefined;
  for (const key in params) {
    const value = params[key];
    if (typeof value !== "string") return undefined;
    switch (key) {
      case "k":
        k = fastInt(value, kRange);
        if (k === undefined) return undefined;
        break;
      case "ef":
        ef = fastInt(value, efRange);
        if (ef === undefined) return undefined;
        break;
      case "includeText":
        includeText = fastBool(value);
        if (includeText === undefined) return undefined;
        break;
      case "includeMetadata":
        includeMetadata = fastBool(value);
        if (includeMetadata === undefined) return undefined;
        break;
      case "exact":
        exact = fastBool(value);
        if (exact === undefined) return undefined;
        break;
      default:
        return undefined;
    }
  }
  const p: Parameters<typeof binaryQuery>[1] = { k, ef };
  if (includeText !== undefined) p.includeText = includeText;
  if (includeMetadata !== undefined) p.includeMetadata = includeMetadata;
  if (exact !== undefined) p.exact = exact;
  return binaryQuery(body, p, new Map(), dimension, metric);
}

const scanSchema = z.strictObject({
  afterSeq: intParam(z.number().int().min(0)).optional(),
  limit: intParam(z.number().int().min(1).max(10_000)).optional(),
});

export function decodeScanParams(params: Record<string, unknown>): { afterSeq: number; limit: number } {
  const p = parseWith(scanSchema, params);
  return { afterSeq: p.afterSeq ?? 0, limit: p.limit ?? 1000 };
}

const upsertParamsSchema = z.strictObject({ ifAbsent: boolParam.optional() });

/**
 * POST /v1/points' query string (the body formats stay as they are). `ifAbsent`: the backfill's mode,
 * which skips every id this shard has any row for, live or tombstone, so it never overwrites a newer
 * write nor resurrects a delete that reached the shard first.
 */
export function decodeUpsertParams(params: Record<string, unknown>): { ifAbsent: boolean } {
  for (const [key, value] of Object.entries(params)) {
    if (typeof value !== "string") throw badRequest(key, "must appear once in the query string");
  }
  return { ifAbsent: parseWith(upsertParamsSchema, params).ifAbsent ?? false };
}

export const metaKeyPattern = /^[A-Za-z0-9._-]{1,128}$/;
export const maxMetaValueBytes = 64 * 1024;

/** A /v1/meta key: a short name, never a path, never a store key (those are namespaced apart). */
export function decodeMetaKey(key: unknown): string {
  if (typeof key !== "string" || !metaKeyPattern.test(key))
    throw badRequest("key", "must be 1..128 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
  return key;
}

const metaBodySchema = z.strictObject({ value: z.unknown() });

/** PUT /v1/meta/:key's body `{value}`; returns the value serialised as it will be stored. */
export function decodeMetaValue(body: unknown): string {
  // zod's own word for a missing key ("expected nonoptional") would not tell a client what to send.
  if (typeof body === "object" && body !== null && !Array.isArray(body) && !("value" in body))
    throw badRequest("value", `is required: send {"value": <any JSON, at most ${maxMetaValueBytes} bytes>}`);
  const { value } = parseWith(metaBodySchema, body);
  const text = JSON.stringify(value);
  const bytes = Buffer.byteLength(text);
  if (bytes > maxMetaValueBytes)
    throw badRequest("value", `must serialise to at most ${maxMetaValueBytes} bytes of JSON, got ${bytes}`);
  return text;
}
