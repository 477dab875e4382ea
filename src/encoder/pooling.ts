// Pooling turns the transformer's per-token hidden states into one vector per row. These functions
// work on the flat row-major [batch, seq, dim] buffer that onnxruntime returns, so the hot path never
// builds per-token JS objects.

import type { Pooling } from "./engine-types.js";

export interface HiddenShape {
  batch: number;
  seq: number;
  dim: number;
}

function checkShape(hidden: Float32Array, shape: HiddenShape): void {
  const expected = shape.batch * shape.seq * shape.dim;
  if (hidden.length !== expected) {
    throw new Error(
      `hidden states have ${hidden.length} values but shape [${shape.batch}, ${shape.seq}, ${shape.dim}] needs ${expected}`,
    );
  }
}

/**
 * Mean over the tokens whose attention-mask entry is non-zero, as sentence-transformers' Pooling
 * (pooling_mode_mean_tokens) does: padded positions contribute nothing, and a row with an all-zero
 * mask yields a zero vector rather than NaN (the reference clamps the divisor the same way).
 * `mask` is [batch, seq] row-major.
 */
export function meanPool(hidden: Float32Array, shape: HiddenShape, mask: ArrayLike<number>): Float32Array[] {
  checkShape(hidden, shape);
  const { batch, seq, dim } = shape;
  if (mask.length !== batch * seq) {
    throw new Error(`attention mask has ${mask.length} values but [${batch}, ${seq}] needs ${batch * seq}`);
  }
  const out: Float32Array[] = [];
  // Accumulate in float64: summing up to 512 float32 values loses digits the reference keeps.
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (mask[b * seq + t] === 0) continue;
      count++;
      const base = (b * seq + t) * dim;
      for (let d = 0; d < dim; d++) acc[d]! += hidden[base + d]!;
    }
    const row = new Float32Array(dim);
    if (count > 0) {
      for (let d = 0; d < dim; d++) row[d] = acc[d]! / count;
    }
    out.push(row);
  }
  return out;
}

/** The hidden state of the first token ([CLS] / <s>) of each row, as BGE-style models expect. */
export function clsPool(hidden: Float32Array, shape: HiddenShape): Float32Array[] {
  checkShape(hidden, shape);
  const { batch, seq, dim } = shape;
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const start = b * seq * dim;
    // slice copies: callers keep rows after the session's output buffer is gone.
    out.push(hidden.slice(start, start + dim));
  }
  return out;
}

export function pool(
  pooling: Pooling,
  hidden: Float32Array,
  shape: HiddenShape,
  mask: ArrayLike<number>,
): Float32Array[] {
  switch (pooling) {
    case "mean":
      return meanPool(hidden, shape, mask);
    case "cls":
      return clsPool(hidden, shape);
  }
}

/**
 * A unit-length copy of `v`. A zero vector stays zero (no NaN), matching torch's F.normalize, whose
 * epsilon keeps the divisor away from 0.
 */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  const out = new Float32Array(v.length);
  if (norm === 0) return out;
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm;
  return out;
}

/** Cosine similarity in float64; 0 when either vector is zero. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of length ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}
