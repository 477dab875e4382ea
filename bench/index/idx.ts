// The IDX file format of MNIST and Fashion-MNIST (Debian's dataset-fashion-mnist ships them gzipped):
// a big-endian magic (0x0000, element type, rank), rank big-endian uint32 sizes, then the elements.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

export interface IdxArray {
  dims: number[];
  /** Elements in row-major order; only the unsigned-byte type (0x08) is used by these data sets. */
  data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array): IdxArray {
  if (bytes.byteLength < 4) throw new Error("IDX: shorter than its 4-byte magic");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) throw new Error("IDX: magic must start with two zero bytes");
  const type = view.getUint8(2);
  if (type !== 0x08) throw new Error(`IDX: element type 0x${type.toString(16)} is not unsigned byte (0x08)`);
  const rank = view.getUint8(3);
  const header = 4 + rank * 4;
  if (rank === 0 || bytes.byteLength < header) throw new Error(`IDX: rank ${rank} header is truncated`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + i * 4));
  const count = dims.reduce((a, b) => a * b, 1);
  if (bytes.byteLength - header !== count) {
    throw new Error(
      `IDX: dims ${dims.join("x")} need ${count} bytes of data, file has ${bytes.byteLength - header}`,
    );
  }
  return { dims, data: bytes.subarray(header) };
}

/** The first `limit` rows of a gzipped IDX image file as float32 vectors (pixel values 0..255). */
export function loadIdxVectors(
  path: string,
  limit = Number.POSITIVE_INFINITY,
): { n: number; dim: number; data: Float32Array } {
  const idx = parseIdx(gunzipSync(readFileSync(path)));
  const rows = idx.dims[0]!;
  const dim = idx.dims.slice(1).reduce((a, b) => a * b, 1);
  const n = Math.min(rows, limit);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n * dim; i++) data[i] = idx.data[i]!;
  return { n, dim, data };
}
