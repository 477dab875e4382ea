// Validation of the two embedding dialects into one shape the routes hand to the batcher. Pure, so
// every refusal (and the field it names) is a table test. Unknown fields are ignored, as both
// OpenAI's SDKs and TEI's clients send extras; fields that would silently change the vectors
// (dimensions, truncation_direction Left, prompt_name) are refused instead.
import { invalid } from "./errors.js";

export type EncodingFormat = "float" | "base64";

export interface OpenAiEmbeddingRequest {
  inputs: string[];
  /** The client sent one string, not an array: errors name "input", not "input[0]". */
  single: boolean;
  model: string | undefined;
  encodingFormat: EncodingFormat;
}

export interface TeiEmbedRequest {
  inputs: string[];
  single: boolean;
  normalize: boolean;
  truncate: boolean;
}

export interface RequestLimits {
  dimension: number;
  maxClientBatchSize: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireObject(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) {
    throw invalid(null, "the request body must be a JSON object (send Content-Type: application/json)");
  }
  return body;
}

function texts(value: unknown, field: string, limits: RequestLimits): string[] {
  if (value === undefined || value === null) throw invalid(field, `${field} is required`, "missing_field");
  if (typeof value === "string") {
    if (value === "") throw invalid(field, `${field} must not be an empty string`, "empty_input");
    return [value];
  }
  if (!Array.isArray(value)) {
    throw invalid(field, `${field} must be a string or an array of strings`, "invalid_type");
  }
  if (value.length === 0) throw invalid(field, `${field} must contain at least one string`, "empty_input");
  if (value.length > limits.maxClientBatchSize) {
    throw invalid(
      field,
      `${field} has ${value.length} items, more than the maximum of ${limits.maxClientBatchSize} per request; split it into several requests`,
      "too_many_inputs",
      413,
    );
  }
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    const at = `${field}[${i}]`;
    if (typeof item !== "string") {
      const hint = typeof item === "number" || Array.isArray(item) ? " (token arrays are not supported)" : "";
      throw invalid(at, `${at} must be a string${hint}`, "invalid_type");
    }
    if (item === "") throw invalid(at, `${at} must not be an empty string`, "empty_input");
  }
  return value as string[];
}

function optionalBoolean(body: Record<string, unknown>, field: string, fallback: boolean): boolean {
  const v = body[field];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean") throw invalid(field, `${field} must be true or false`, "invalid_type");
  return v;
}

export function parseOpenAiRequest(body: unknown, limits: RequestLimits): OpenAiEmbeddingRequest {
  const b = requireObject(body);
  const inputs = texts(b.input, "input", limits);
  const single = typeof b.input === "string";
  const model = b.model;
  if (model !== undefined && model !== null && typeof model !== "string") {
    throw invalid("model", "model must be a string", "invalid_type");
  }
  const format = b.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    throw invalid("encoding_format", `encoding_format must be "float" or "base64"`, "invalid_value");
  }
  const dims = b.dimensions;
  if (dims !== undefined && dims !== null && dims !== limits.dimension) {
    throw invalid(
      "dimensions",
      `dimensions is not supported: this model returns ${limits.dimension} dimensions; omit dimensions or set it to ${limits.dimension}`,
      "unsupported_value",
    );
  }
  return { inputs, single, model: typeof model === "string" ? model : undefined, encodingFormat: format };
}

export function parseTeiRequest(body: unknown, limits: RequestLimits): TeiEmbedRequest {
  const b = requireObject(body);
  const inputs = texts(b.inputs, "inputs", limits);
  const single = typeof b.inputs === "string";
  const normalize = optionalBoolean(b, "normalize", true);
  const truncate = optionalBoolean(b, "truncate", true);
  const direction = b.truncation_direction;
  if (direction !== undefined && direction !== null && direction !== "Right" && direction !== "right") {
    throw invalid(
      "truncation_direction",
      `truncation_direction must be "Right"; only right truncation is supported`,
      "unsupported_value",
    );
  }
  if (b.prompt_name !== undefined && b.prompt_name !== null) {
    throw invalid(
      "prompt_name",
      "prompt_name is not supported; put the prefix in the input text",
      "unsupported_value",
    );
  }
  return { inputs, single, normalize, truncate };
}
