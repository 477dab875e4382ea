// One onnxruntime session over an exported transformer whose output is last_hidden_state
// [batch, seq, hidden], and one padded batch through it with pooling. Runs inside the inference
// worker (engine-worker.ts): session.run in onnxruntime-node is synchronous on its calling thread.
import { endianness } from "node:os";
import ort from "onnxruntime-node";
import type { Pooling } from "./engine-types.js";
import { pool } from "./pooling.js";
import { flattenVectors, type PackedRows } from "./worker-protocol.js";

// Every input an exported BERT-family encoder may declare; MPNet-style models have no token_type_ids
// and the exporter drops inputs the graph does not use, so we feed only what the session asks for.
const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids"]);

const LITTLE_ENDIAN = endianness() === "LE";

export interface OnnxModel {
  session: ort.InferenceSession;
  outputName: string;
  wants: ReadonlySet<string>;
}

export async function openSession(onnxPath: string, threads: number): Promise<OnnxModel> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxPath, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      // One graph per request batch: inter-op parallelism only adds contention on small CPUs.
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
  } catch (err) {
    throw new Error(
      `cannot load ${onnxPath} into onnxruntime (${(err as Error).message}); re-run npm run setup:models`,
    );
  }
  const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
  if (unknown.length > 0 || !session.inputNames.includes("input_ids")) {
    await session.release();
    throw new Error(
      `${onnxPath} declares inputs [${session.inputNames.join(", ")}]; expected input_ids plus optionally ` +
        "attention_mask and token_type_ids (an encoder exported by scripts/setup-models.sh)",
    );
  }
  const outputName = session.outputNames.includes("last_hidden_state")
    ? "last_hidden_state"
    : session.outputNames[0];
  if (outputName === undefined) {
    await session.release();
    throw new Error(`${onnxPath} has no outputs`);
  }
  return { session, outputName, wants: new Set(session.inputNames) };
}

/**
 * Fill an int64 tensor buffer from small non-negative ints without a BigInt per element: on a
 * little-endian host the low 32-bit word of each int64 is the value and the high word stays 0.
 */
function int64Buffer(size: number): { big: BigInt64Array; set: (i: number, v: number) => void } {
  const big = new BigInt64Array(size);
  if (LITTLE_ENDIAN) {
    const words = new Int32Array(big.buffer);
    return {
      big,
      set: (i, v) => {
        words[2 * i] = v;
      },
    };
  }
  return {
    big,
    set: (i, v) => {
      big[i] = BigInt(v);
    },
  };
}

export interface PoolSpec {
  pooling: Pooling;
  dimension: number;
  padId: number;
}

/** Pad the rows to the longest, run the graph, pool; returns the pooled vectors as one [rows × dim] buffer. */
export async function runPooled(model: OnnxModel, batch: PackedRows, spec: PoolSpec): Promise<Float32Array> {
  const rows = batch.lengths.length;
  if (rows === 0) return new Float32Array(0);
  let seq = 0;
  for (const len of batch.lengths) {
    if (len === 0) throw new Error("cannot run an empty token row; tokenize() always adds special tokens");
    if (len > seq) seq = len;
  }
  const size = rows * seq;
  const ids = int64Buffer(size);
  const maskInt = int64Buffer(size);
  const mask = new Uint8Array(size);
  let at = 0;
  for (let r = 0; r < rows; r++) {
    const len = batch.lengths[r]!;
    const base = r * seq;
    for (let t = 0; t < seq; t++) {
      if (t < len) {
        ids.set(base + t, batch.ids[at++]!);
        maskInt.set(base + t, 1);
        mask[base + t] = 1;
      } else {
        ids.set(base + t, spec.padId);
      }
    }
  }
  const dims = [rows, seq];
  const feeds: Record<string, ort.Tensor> = {};
  feeds["input_ids"] = new ort.Tensor("int64", ids.big, dims);
  if (model.wants.has("attention_mask")) feeds["attention_mask"] = new ort.Tensor("int64", maskInt.big, dims);
  // Single-segment input: all zeros, which a fresh BigInt64Array already is.
  if (model.wants.has("token_type_ids"))
    feeds["token_type_ids"] = new ort.Tensor("int64", new BigInt64Array(size), dims);

  const name = model.outputName;
  const outputs = await model.session.run(feeds, [name]);
  const out = outputs[name];
  if (out === undefined) throw new Error(`onnxruntime returned no ${name}`);
  try {
    const [b, s, h] = out.dims;
    if (out.type !== "float32" || out.dims.length !== 3 || b !== rows || s !== seq || h !== spec.dimension) {
      throw new Error(
        `model output ${name} is ${out.type}[${out.dims.join(", ")}], expected float32[${rows}, ${seq}, ` +
          `${spec.dimension}]; check "dimension" in embedops-model.json`,
      );
    }
    const pooled = pool(
      spec.pooling,
      out.data as Float32Array,
      { batch: rows, seq, dim: spec.dimension },
      mask,
    );
    return flattenVectors(pooled, spec.dimension);
  } finally {
    out.dispose();
  }
}
