// Query and document vectors travel as little-endian float32: base64 in JSON, raw bytes in binary
// bodies. JSON number arrays are accepted for convenience. Decoding checks the dimension here, so a
// vector from another model shape is a 400 naming the field, never a shard error.
import { badRequest } from "./errors.js";

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Float32 values as little-endian bytes (a copy; safe to send while the array is reused). */
export function float32ToLeBytes(values: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(values.length * 4);
  if (littleEndian) {
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(out);
  } else {
    for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i]!, i * 4);
  }
  return out;
}

export function leBytesToFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function decodeVector(value: number[] | string, dimension: number, field = "vector"): Float32Array {
  let out: Float32Array;
  if (typeof value === "string") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw badRequest(field, "a string vector must be base64 of little-endian float32 values");
    }
    const bytes = Buffer.from(value, "base64");
    if (bytes.byteLength !== dimension * 4) {
      throw badRequest(
        field,
        `expected ${dimension} float32 values (${dimension * 4} bytes of base64), got ${bytes.byteLength} bytes; is the vector from this index's model?`,
      );
    }
    out = leBytesToFloat32(bytes);
  } else {
    if (value.length !== dimension) {
      throw badRequest(
        field,
        `expected ${dimension} numbers, got ${value.length}; is the vector from this index's model?`,
      );
    }
    out = Float32Array.from(value);
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) throw badRequest(`${field}[${i}]`, "must be a finite number");
  }
  return out;
}
