// Response bodies built as strings around per-vector JSON, so no response object graph is built.
// For the float lists, JSON.stringify(Array.from(row)) measured ~20% cheaper in CPU than
// concatenating the numbers ourselves once the body is encoded for the socket, and it turns a
// NaN/Infinity from a corrupt model into null, keeping the body valid JSON. Each float32 prints as
// its exact double value, so a client parsing it gets the bits we computed.
import { endianness } from "node:os";
import type { EncodingFormat } from "./requests.js";

const LITTLE_ENDIAN = endianness() === "LE";

export function floatList(v: Float32Array): string {
  return JSON.stringify(Array.from(v));
}

/** Base64 of the little-endian float32 bytes, as OpenAI's encoding_format "base64" returns. */
export function float32Base64(v: Float32Array): string {
  const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  // The view shares the row's memory: no copy on the little-endian hosts we run on.
  return (LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32()).toString("base64");
}

export function openAiBody(
  rows: readonly Float32Array[],
  format: EncodingFormat,
  model: string,
  promptTokens: number,
): string {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const embedding = format === "base64" ? `"${float32Base64(rows[i]!)}"` : floatList(rows[i]!);
    parts.push(`{"object":"embedding","index":${i},"embedding":${embedding}}`);
  }
  const usage = `{"prompt_tokens":${promptTokens},"total_tokens":${promptTokens}}`;
  return `{"object":"list","data":[${parts.join(",")}],"model":${JSON.stringify(model)},"usage":${usage}}`;
}

export function teiBody(rows: readonly Float32Array[]): string {
  return `[${rows.map(floatList).join(",")}]`;
}
