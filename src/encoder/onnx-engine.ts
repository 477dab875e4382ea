// The inference engine: tokenizer + one onnxruntime CPU session over an exported transformer whose
// output is last_hidden_state [batch, seq, hidden]. Pooling runs here in JS so one ONNX file serves
// every pooling mode and the fingerprint covers the choice.

import { endianness } from "node:os";
import ort from "onnxruntime-node";
import type { EncoderEngine, ModelConfig } from "./engine-types.js";
import { loadModelDir } from "./model-dir.js";
import { pool } from "./pooling.js";
import { loadTokenizer } from "./tokenizer.js";

export interface EngineOptions {
  /** onnxruntime intra-op threads; the encoder's CPU request should match it. */
  threads: number;
}

// Every input an exported BERT-family encoder may declare; MPNet-style models have no token_type_ids
// and the exporter drops inputs the graph does not use, so we feed only what the session asks for.
const KNOWN_INPUTS = new Set(["input_ids", "attention_mask", "token_type_ids"]);

const LITTLE_ENDIAN = endianness() === "LE";

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

export async function loadEngine(modelDir: string, options: EngineOptions): Promise<EncoderEngine> {
  const threads = options.threads;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer, got ${threads}`);
  }
  const dir = await loadModelDir(modelDir);
  const tokenizer = await loadTokenizer(
    dir.tokenizerPath,
    dir.tokenizerConfigPath,
    dir.config.maxSequenceLength,
  );

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(dir.onnxPath, {
      executionProviders: ["cpu"],
      intraOpNumThreads: threads,
      // One graph per request batch: inter-op parallelism only adds contention on small CPUs.
      interOpNumThreads: 1,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
  } catch (err) {
    throw new Error(
      `cannot load ${dir.onnxPath} into onnxruntime (${(err as Error).message}); re-run npm run setup:models`,
    );
  }

  const unknown = session.inputNames.filter((n) => !KNOWN_INPUTS.has(n));
  if (unknown.length > 0 || !session.inputNames.includes("input_ids")) {
    await session.release();
    throw new Error(
      `${dir.onnxPath} declares inputs [${session.inputNames.join(", ")}]; expected input_ids plus optionally ` +
        "attention_mask and token_type_ids (an encoder exported by scripts/setup-models.sh)",
    );
  }
  const outputName = session.outputNames.includes("last_hidden_state")
    ? "last_hidden_state"
    : session.outputNames[0];
  if (outputName === undefined) {
    await session.release();
    throw new Error(`${dir.onnxPath} has no outputs`);
  }

  const config: ModelConfig = dir.config;
  const wants = new Set(session.inputNames);
  let closed = false;

  async function run(batch: readonly (readonly number[])[]): Promise<Float32Array[]> {
    if (closed) throw new Error("encoder engine is closed");
    if (batch.length === 0) return [];
    let seq = 0;
    for (const row of batch) {
      if (row.length === 0)
        throw new Error("cannot run an empty token row; tokenize() always adds special tokens");
      if (row.length > seq) seq = row.length;
    }
    const rows = batch.length;
    const size = rows * seq;
    // Fresh buffers per run: the server may have the next batch in flight while this one runs, and
    // allocation is microseconds next to the matrix work.
    const ids = int64Buffer(size);
    const maskInt = int64Buffer(size);
    const mask = new Uint8Array(size);
    for (let r = 0; r < rows; r++) {
      const row = batch[r]!;
      const base = r * seq;
      for (let t = 0; t < seq; t++) {
        if (t < row.length) {
          ids.set(base + t, row[t]!);
          maskInt.set(base + t, 1);
          mask[base + t] = 1;
        } else {
          ids.set(base + t, tokenizer.padId);
        }
      }
    }
    const dims = [rows, seq];
    const feeds: Record<string, ort.Tensor> = {};
    feeds["input_ids"] = new ort.Tensor("int64", ids.big, dims);
    if (wants.has("attention_mask")) feeds["attention_mask"] = new ort.Tensor("int64", maskInt.big, dims);
    // Single-segment input: all zeros, which a fresh BigInt64Array already is.
    if (wants.has("token_type_ids"))
      feeds["token_type_ids"] = new ort.Tensor("int64", new BigInt64Array(size), dims);

    const outputs = await session.run(feeds, [outputName!]);
    const out = outputs[outputName!];
    if (out === undefined) throw new Error(`onnxruntime returned no ${outputName}`);
    try {
      const [b, s, h] = out.dims;
      if (
        out.type !== "float32" ||
        out.dims.length !== 3 ||
        b !== rows ||
        s !== seq ||
        h !== config.dimension
      ) {
        throw new Error(
          `model output ${outputName} is ${out.type}[${out.dims.join(", ")}], expected float32[${rows}, ${seq}, ` +
            `${config.dimension}]; check "dimension" in embedops-model.json`,
        );
      }
      return pool(
        config.pooling,
        out.data as Float32Array,
        { batch: rows, seq, dim: config.dimension },
        mask,
      );
    } finally {
      out.dispose();
    }
  }

  const engine: EncoderEngine = {
    config,
    fingerprint: dir.fingerprint,
    threads,
    tokenize: (text) => tokenizer.tokenize(text),
    run,
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };

  // Fail at load, not on the first request, when embedops-model.json's dimension disagrees with the model.
  try {
    await run([tokenizer.tokenize("warm-up").ids]);
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}
