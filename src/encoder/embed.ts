// What both embedding dialects share: tokenize, enforce the length policy, queue, await the vectors.
import { ApiError } from "./errors.js";
import type { EncoderRuntime } from "./runtime.js";

export interface Embedded {
  /** Pooled vectors, one per input, in input order; NOT normalised. */
  rows: Float32Array[];
  /** Tokens the model saw (after truncation), special tokens included. */
  tokens: number;
}

/**
 * `field` names the request field for errors ("input" / "inputs"); `single` says the client sent one
 * string rather than an array, so an error names "input" rather than "input[0]".
 */
export async function embedTexts(
  rt: EncoderRuntime,
  texts: readonly string[],
  opts: { truncate: boolean; field: string; single: boolean; signal?: AbortSignal },
): Promise<Embedded> {
  const { engine, batcher } = rt.serving();
  const max = engine.config.maxSequenceLength;
  const ids: (readonly number[])[] = new Array(texts.length);
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const param = opts.single ? opts.field : `${opts.field}[${i}]`;
    let t: ReturnType<typeof engine.tokenize>;
    try {
      t = engine.tokenize(texts[i]!);
    } catch (err) {
      throw new ApiError(400, `cannot tokenize ${param}: ${(err as Error).message}`, {
        param,
        code: "tokenization_failed",
        teiType: "Tokenizer",
      });
    }
    if (t.truncated && !opts.truncate) {
      throw new ApiError(
        413,
        `${param} has ${t.fullLength} tokens, more than this model's maximum of ${max}; shorten it or set truncate to true`,
        { param, code: "input_too_long", teiType: "Validation" },
      );
    }
    ids[i] = t.ids;
    tokens += t.ids.length;
  }
  return { rows: await batcher.submit(ids, opts.signal), tokens };
}
