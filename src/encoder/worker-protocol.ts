// The messages between the encoder's main thread and its inference worker, and the packing of a
// batch into transferable typed arrays: token rows travel as one Int32Array, pooled vectors come back
// as one Float32Array, so a batch crosses the thread boundary as two buffer moves, not a structured
// clone of thousands of numbers.
import type { Pooling } from "./engine-types.js";

/** workerData of the inference worker: everything it needs to open the session and pool. */
export interface WorkerSetup {
  onnxPath: string;
  threads: number;
  pooling: Pooling;
  dimension: number;
  padId: number;
}

export type ToWorker = { kind: "run"; id: number; ids: Int32Array; lengths: Int32Array } | { kind: "close" };

export type FromWorker =
  | { kind: "ready" }
  | { kind: "load-failed"; message: string }
  | { kind: "done"; id: number; vectors: Float32Array }
  | { kind: "failed"; id: number; message: string; stack?: string | undefined };

export interface PackedRows {
  ids: Int32Array;
  lengths: Int32Array;
}

/** Concatenate token rows; `lengths` says where each row ends. */
export function packRows(rows: readonly (readonly number[])[]): PackedRows {
  let total = 0;
  for (const row of rows) total += row.length;
  const ids = new Int32Array(total);
  const lengths = new Int32Array(rows.length);
  let at = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    lengths[r] = row.length;
    for (let t = 0; t < row.length; t++) ids[at++] = row[t]!;
  }
  return { ids, lengths };
}

/** One vector per row as views on the flat [rows × dim] buffer (no copy). */
export function unpackVectors(flat: Float32Array, rows: number, dim: number): Float32Array[] {
  if (flat.length !== rows * dim) {
    throw new Error(
      `the inference worker returned ${flat.length} values for ${rows} rows of dimension ${dim}`,
    );
  }
  const out: Float32Array[] = new Array(rows);
  for (let r = 0; r < rows; r++) out[r] = flat.subarray(r * dim, (r + 1) * dim);
  return out;
}

/** Pooled rows into one flat buffer, the worker's half of unpackVectors. */
export function flattenVectors(rows: readonly Float32Array[], dim: number): Float32Array {
  const flat = new Float32Array(rows.length * dim);
  for (let r = 0; r < rows.length; r++) flat.set(rows[r]!, r * dim);
  return flat;
}
