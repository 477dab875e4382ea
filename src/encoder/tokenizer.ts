// Tokenisation in-process from tokenizer.json (no network, no Python). @huggingface/tokenizers has no
// truncation, so we do it the way the Rust tokenizer behind sentence-transformers does for a single
// sequence: cut the content tokens to maxSequenceLength minus the special tokens, then wrap them in the
// special tokens again — so a truncated row still ends with [SEP] (or </s>).

import { readFile } from "node:fs/promises";
import { Tokenizer as UntypedTokenizer } from "@huggingface/tokenizers";
import type { Tokenized } from "./engine-types.js";

// The package's .d.ts files use extensionless relative imports that NodeNext cannot resolve, so its
// types arrive as `any`; pin the slice of the API we rely on so the compiler checks our use of it.
interface Tokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}
const TokenizerClass: new (tokenizerJson: object, tokenizerConfig: object) => Tokenizer = UntypedTokenizer;

export interface TextTokenizer {
  readonly maxSequenceLength: number;
  /** Id used to fill rows shorter than the longest one in a batch. */
  readonly padId: number;
  tokenize(text: string): Tokenized;
}

// Any short text works; it only has to produce at least one content token so the special tokens
// around it can be told apart.
const PROBE_TEXT = "hello";

interface SpecialFrame {
  prefix: number[];
  suffix: number[];
}

/** Learn which special ids the post-processor puts before and after the content of a single text. */
function specialFrame(tokenizer: Tokenizer): SpecialFrame {
  const bare = tokenizer.encode(PROBE_TEXT, { add_special_tokens: false }).ids;
  const full = tokenizer.encode(PROBE_TEXT, { add_special_tokens: true }).ids;
  for (let start = 0; start + bare.length <= full.length; start++) {
    if (bare.every((id, i) => full[start + i] === id)) {
      return { prefix: full.slice(0, start), suffix: full.slice(start + bare.length) };
    }
  }
  throw new Error(
    `tokenizer: the encoding of "${PROBE_TEXT}" with special tokens does not contain the one without; ` +
      "this post-processor is not supported (expected a template like [CLS] $A [SEP])",
  );
}

function findPadId(
  tokenizer: Tokenizer,
  json: Record<string, unknown>,
  config: Record<string, unknown>,
): number {
  const padding = json["padding"];
  if (padding !== null && typeof padding === "object" && "pad_id" in padding) {
    const id = (padding as { pad_id: unknown }).pad_id;
    if (typeof id === "number") return id;
  }
  const padToken = config["pad_token"];
  const name =
    typeof padToken === "string" ? padToken : typeof padToken === "object" ? readContent(padToken) : null;
  for (const candidate of [name, "[PAD]", "<pad>"]) {
    if (candidate === null || candidate === undefined) continue;
    const id = tokenizer.token_to_id(candidate);
    if (id !== undefined) return id;
  }
  // Padded positions are masked out, so any id is correct for the result; 0 is the common choice.
  return 0;
}

function readContent(v: unknown): string | null {
  if (v !== null && typeof v === "object" && "content" in v) {
    const c = (v as { content: unknown }).content;
    return typeof c === "string" ? c : null;
  }
  return null;
}

async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: cannot read as JSON (${(err as Error).message}); re-run npm run setup:models`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`${file}: expected a JSON object; re-run npm run setup:models`);
  }
  return value as Record<string, unknown>;
}

export async function loadTokenizer(
  tokenizerPath: string,
  tokenizerConfigPath: string | undefined,
  maxSequenceLength: number,
): Promise<TextTokenizer> {
  const json = await readJsonObject(tokenizerPath);
  const config = tokenizerConfigPath ? await readJsonObject(tokenizerConfigPath) : {};
  const tokenizer = new TokenizerClass(json, config);
  const frame = specialFrame(tokenizer);
  const specials = frame.prefix.length + frame.suffix.length;
  if (maxSequenceLength <= specials) {
    throw new Error(
      `maxSequenceLength ${maxSequenceLength} leaves no room for text next to ${specials} special tokens; raise it`,
    );
  }
  const maxContent = maxSequenceLength - specials;
  const padId = findPadId(tokenizer, json, config);

  return {
    maxSequenceLength,
    padId,
    tokenize(text: string): Tokenized {
      const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
      const fullLength = content.length + specials;
      const kept = content.length > maxContent ? content.slice(0, maxContent) : content;
      return {
        ids: [...frame.prefix, ...kept, ...frame.suffix],
        truncated: content.length > maxContent,
        fullLength,
      };
    },
  };
}
