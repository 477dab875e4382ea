// The benchmark's inputs: real English from WordNet's usage examples, sized with the engine's own
// tokenizer so every system sees the same texts and the token counts are the model's, not a guess.
import type { Tokenized } from "../../src/encoder/engine-types.js";
import { loadWordnetSentences } from "../../test/fixtures/corpus/wordnet.js";

export type InputKind = "query" | "passage";

export interface InputSet {
  kind: InputKind;
  texts: string[];
  /** Tokens per text as the model sees them (special tokens included). */
  tokens: number[];
  meanTokens: number;
  minTokens: number;
  maxTokens: number;
}

export interface InputSpec {
  /** Inclusive token range, special tokens included. */
  min: number;
  max: number;
  count: number;
}

// Queries are single example sentences of 14..19 tokens (mean ~16); passages join consecutive
// examples until 122..138 tokens (mean ~128), the length of a retrieval chunk.
export const QUERY_SPEC: InputSpec = { min: 14, max: 19, count: 2000 };
export const PASSAGE_SPEC: InputSpec = { min: 122, max: 138, count: 600 };

function finish(kind: InputKind, texts: string[], tokens: number[]): InputSet {
  let sum = 0;
  for (const t of tokens) sum += t;
  return {
    kind,
    texts,
    tokens,
    meanTokens: sum / Math.max(1, tokens.length),
    minTokens: Math.min(...tokens),
    maxTokens: Math.max(...tokens),
  };
}

export function buildInputs(
  tokenize: (text: string) => Tokenized,
  spec: { query: InputSpec; passage: InputSpec } = { query: QUERY_SPEC, passage: PASSAGE_SPEC },
): { query: InputSet; passage: InputSet } {
  const sentences = loadWordnetSentences().map((s) => s.text);
  const count = (text: string) => tokenize(text).ids.length;

  const qTexts: string[] = [];
  const qTokens: number[] = [];
  for (const s of sentences) {
    if (qTexts.length >= spec.query.count) break;
    const n = count(s);
    if (n >= spec.query.min && n <= spec.query.max) {
      qTexts.push(s);
      qTokens.push(n);
    }
  }

  // Passages come from the far end of the corpus so no query text also appears inside a passage.
  const pTexts: string[] = [];
  const pTokens: number[] = [];
  let parts: string[] = [];
  // Content tokens of the parts so far: summing per-sentence counts and tokenizing the joined text
  // only once it is near the range keeps this linear (re-tokenizing every prefix took seconds).
  let content = 0;
  for (let i = sentences.length - 1; i >= 0 && pTexts.length < spec.passage.count; i--) {
    const part = `${sentences[i]!}.`;
    parts.push(part);
    content += count(part) - 2;
    if (content + 2 < spec.passage.min - 4) continue;
    const text = parts.join(" ");
    const n = count(text);
    if (n < spec.passage.min) continue;
    if (n <= spec.passage.max) {
      pTexts.push(text);
      pTokens.push(n);
    }
    // Over the range: drop this try and start the next passage afresh.
    parts = [];
    content = 0;
  }
  if (qTexts.length < spec.query.count || pTexts.length < spec.passage.count) {
    throw new Error(
      `WordNet gave ${qTexts.length}/${spec.query.count} queries and ${pTexts.length}/${spec.passage.count} passages`,
    );
  }
  return { query: finish("query", qTexts, qTokens), passage: finish("passage", pTexts, pTokens) };
}
