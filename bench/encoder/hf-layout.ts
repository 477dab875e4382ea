// A Hugging Face-style view of one embedops model directory, for the peers that only read that
// layout (transformers.js, Infinity): symlinks to the very same model.onnx and tokenizer files, plus
// the config.json they need to pick the architecture. Built in the cache, never in models/.
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ModelConfig } from "../../src/encoder/engine-types.js";

// MiniLM-L6-H384's architecture as in the upstream config.json. embedops-model.json does not carry
// it (the engine never needs it); transformers.js and optimum read model_type and sizes from here.
const BERT_MINILM_L6 = {
  architectures: ["BertModel"],
  model_type: "bert",
  attention_probs_dropout_prob: 0.1,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  hidden_size: 384,
  initializer_range: 0.02,
  intermediate_size: 1536,
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  num_attention_heads: 12,
  num_hidden_layers: 6,
  pad_token_id: 0,
  position_embedding_type: "absolute",
  type_vocab_size: 2,
  vocab_size: 30522,
};

const LINKED = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

/**
 * Build (afresh) `<root>/<name>/` with `onnxPath` (transformers.js wants onnx/model.onnx; Infinity
 * 0.0.78 with optimum 2.x only finds a top-level model.onnx) -> the model's ONNX file,
 * the tokenizer files, config.json, and sentence-transformers' 1_Pooling/config.json so a server that
 * infers pooling finds the same choice embedops-model.json makes. Returns the directory.
 */
export function buildHfLayout(
  modelDir: string,
  root: string,
  config: ModelConfig,
  onnxPath: "onnx/model.onnx" | "model.onnx",
): string {
  if (config.dimension !== BERT_MINILM_L6.hidden_size) {
    throw new Error(`the HF layout knows only MiniLM-L6 (384-d); ${config.name} is ${config.dimension}-d`);
  }
  const src = resolve(modelDir);
  const dir = join(root, config.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, dirname(onnxPath)), { recursive: true });
  mkdirSync(join(dir, "1_Pooling"), { recursive: true });
  symlinkSync(join(src, "model.onnx"), join(dir, onnxPath));
  for (const f of LINKED) if (existsSync(join(src, f))) symlinkSync(join(src, f), join(dir, f));
  writeFileSync(join(dir, "config.json"), JSON.stringify(BERT_MINILM_L6, null, 2));
  writeFileSync(
    join(dir, "1_Pooling", "config.json"),
    JSON.stringify({
      word_embedding_dimension: config.dimension,
      pooling_mode_cls_token: config.pooling === "cls",
      pooling_mode_mean_tokens: config.pooling === "mean",
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
    }),
  );
  return dir;
}
