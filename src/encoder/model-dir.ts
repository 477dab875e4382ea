// A model directory is what `npm run setup:models` produces under models/<name>/ and what an encoder
// Pod mounts: model.onnx, tokenizer.json (+ tokenizer_config.json) and embedops-model.json.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import type { ModelConfig } from "./engine-types.js";
import { effectiveModelConfig, type SpaceSettings } from "./space-settings.js";

export const MODEL_CONFIG_FILE = "embedops-model.json";
export const ONNX_FILE = "model.onnx";
export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";

export const modelConfigSchema = z
  .object({
    name: z.string().min(1),
    dimension: z.int().min(1).max(65536),
    pooling: z.enum(["mean", "cls"]),
    normalize: z.boolean(),
    maxSequenceLength: z.int().min(2).max(1_000_000),
    queryPrefix: z.string().default(""),
    documentPrefix: z.string().default(""),
  })
  // A misspelt key (e.g. "max_seq_length") would otherwise be dropped silently and the default used.
  .strict();

export interface ModelDir {
  dir: string;
  config: ModelConfig;
  onnxPath: string;
  tokenizerPath: string;
  /** Absent for tokenizers that need no extra config; the tokenizer then uses its defaults. */
  tokenizerConfigPath: string | undefined;
  /** Over the effective config (the declaration checked against the spec), not the file alone. */
  fingerprint: string;
}

/** Parse embedops-model.json text; errors name the file and every bad field. */
export function parseModelConfig(text: string, file: string): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${file}: not valid JSON (${(err as Error).message}); fix the file or re-run npm run setup:models`,
    );
  }
  const parsed = modelConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const field = i.path.length > 0 ? i.path.join(".") : "(top level)";
      return `field "${field}": ${i.message}`;
    });
    throw new Error(`${file}: invalid model config: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/**
 * The settings that change what a vector means, in a fixed key order. `name` is left out on purpose:
 * renaming a directory does not change the embedding space. Keys are sorted so the JSON is the same
 * bytes whatever order the file lists them in.
 */
export function canonicalSpaceSettings(config: ModelConfig): string {
  return JSON.stringify({
    dimension: config.dimension,
    documentPrefix: config.documentPrefix,
    maxSequenceLength: config.maxSequenceLength,
    normalize: config.normalize,
    pooling: config.pooling,
    queryPrefix: config.queryPrefix,
  });
}

/**
 * The model fingerprint names an embedding space; index generations record it and the router refuses
 * vectors from another one. Definition (v1), stable across releases:
 *
 *   fingerprint = lowercase hex sha256( bytes(model.onnx) || 0x0A || utf8(canonicalSpaceSettings) )
 *
 * where canonicalSpaceSettings is JSON.stringify of {dimension, documentPrefix, maxSequenceLength,
 * normalize, pooling, queryPrefix} in that (sorted) key order with no whitespace, e.g.
 * {"dimension":384,"documentPrefix":"","maxSequenceLength":256,"normalize":true,"pooling":"mean","queryPrefix":""}
 * Python reproduces it with json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
 * The settings are those of the EFFECTIVE config, what the encoder really does: embedops-model.json's
 * declaration checked against the EmbeddingModel spec's settings, which reach the encoder as flags
 * (space-settings.ts). They differ from the file only where spec.maxSequenceLength is below the
 * declared one; the fingerprint then differs too, since long texts are truncated earlier.
 * The tokenizer is not hashed: a tokenizer change that alters ids would also need a new ONNX export
 * in practice, and hashing the ONNX keeps the definition simple for other implementations.
 */
export async function computeFingerprint(onnxPath: string, config: ModelConfig): Promise<string> {
  const hash = createHash("sha256");
  // Streamed: model files reach hundreds of MB and the encoder should not hold two copies in memory.
  for await (const chunk of createReadStream(onnxPath, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
  }
  hash.update("\n");
  hash.update(canonicalSpaceSettings(config), "utf8");
  return hash.digest("hex");
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function requireFile(dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  if (!(await exists(file))) {
    throw new Error(
      `model directory ${dir} has no ${name}; run \`npm run setup:models\` to fetch and export the models, ` +
        `or point --model-dir at a directory made by it`,
    );
  }
  return file;
}

/**
 * The config an encoder of this directory runs with: embedops-model.json checked against the spec's
 * settings (`spec`, from the encoder's flags; none given: the declaration as is). Cheap — it reads
 * no weights — so the encoder refuses a contradiction before it listens. Throws
 * SpaceContradictionError naming every contradiction.
 */
export async function loadModelConfig(dir: string, spec: SpaceSettings = {}): Promise<ModelConfig> {
  const configPath = await requireFile(path.resolve(dir), MODEL_CONFIG_FILE);
  const declared = parseModelConfig(await readFile(configPath, "utf8"), configPath);
  return effectiveModelConfig(declared, configPath, spec);
}

export async function loadModelDir(dir: string, spec: SpaceSettings = {}): Promise<ModelDir> {
  const abs = path.resolve(dir);
  const config = await loadModelConfig(abs, spec);
  const onnxPath = await requireFile(abs, ONNX_FILE);
  const tokenizerPath = await requireFile(abs, TOKENIZER_FILE);
  const tokenizerConfigCandidate = path.join(abs, TOKENIZER_CONFIG_FILE);
  const tokenizerConfigPath = (await exists(tokenizerConfigCandidate)) ? tokenizerConfigCandidate : undefined;
  const fingerprint = await computeFingerprint(onnxPath, config);
  return { dir: abs, config, onnxPath, tokenizerPath, tokenizerConfigPath, fingerprint };
}
