// The contract between the encoder server (HTTP, batching) and the inference engine (tokenizer +
// ONNX session). The server decides batches from token counts; the engine only tokenizes and runs.

export type Pooling = "mean" | "cls";

/**
 * What embedops-model.json in a model directory declares; an engine's `config` is the effective one,
 * that declaration checked against the EmbeddingModel spec's settings (space-settings.ts).
 */
export interface ModelConfig {
  name: string;
  dimension: number;
  pooling: Pooling;
  normalize: boolean;
  maxSequenceLength: number;
  queryPrefix: string;
  documentPrefix: string;
}

export interface Tokenized {
  /** Token ids including the special tokens ([CLS] ... [SEP]). */
  ids: number[];
  /** True when the text was longer than maxSequenceLength and was cut. */
  truncated: boolean;
  /** Token count before truncation (including special tokens). */
  fullLength: number;
}

export interface EncoderEngine {
  readonly config: ModelConfig;
  /** sha256 hex over the ONNX file and the settings that shape the embedding space. */
  readonly fingerprint: string;
  readonly threads: number;
  /** Tokenize one text; cut to maxSequenceLength (keeping the final [SEP]) when it is longer. */
  tokenize(text: string): Tokenized;
  /** Run one batch; returns one pooled vector per row, NOT normalised (callers normalise per request). */
  run(batch: readonly (readonly number[])[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}
