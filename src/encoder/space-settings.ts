// The spec is the truth for an embedding space: an EmbeddingModel's dimension, pooling, normalize,
// maxSequenceLength, queryPrefix and documentPrefix reach the encoder as flags (--dimension,
// --pooling, --normalize, --max-sequence-length, --query-prefix, --document-prefix), and this pure
// function decides what the encoder does with them, given what the model directory's
// embedops-model.json declares for its export:
//
// - dimension, pooling, normalize, queryPrefix, documentPrefix must equal the declaration. The
//   export was made and checked (against sentence-transformers) for exactly those; an encoder that
//   silently used other values would produce vectors from a space nobody declared, and an encoder
//   that silently ignored the spec would make a spec edit do nothing.
// - maxSequenceLength may be lower than the declared one: truncating earlier is a choice within the
//   model's capacity, and the encoder then truncates at the spec's value. Higher is refused: the
//   export supports at most the declared number of tokens.
// - a setting the spec does not give (no flag) takes the declaration, as before these flags existed.
//
// Every contradiction is reported at once, each naming both values and how to make them agree, so
// one edit fixes them all. The result is the effective config: the fingerprint is computed over it,
// so it always describes what the encoder really does.
import type { ModelConfig, Pooling } from "./engine-types.js";

/** The spec's embedding-space settings as the encoder's flags carry them; an absent one is not checked. */
export interface SpaceSettings {
  readonly dimension?: number;
  readonly pooling?: Pooling;
  readonly normalize?: boolean;
  readonly maxSequenceLength?: number;
  readonly queryPrefix?: string;
  readonly documentPrefix?: string;
}

/**
 * The spec contradicts the model directory; `contradictions` has one sentence per field, each
 * complete on its own (it names the spec field, the file and both values), and so is the message.
 */
export class SpaceContradictionError extends Error {
  override name = "SpaceContradictionError";
  constructor(readonly contradictions: readonly string[]) {
    super(contradictions.join("; "));
  }
}

type ExactField = "dimension" | "pooling" | "normalize" | "queryPrefix" | "documentPrefix";

/** What the other kind of export would have to be made for, to fit the spec's value. */
const exportFor: { [F in ExactField]: (value: NonNullable<SpaceSettings[F]>) => string } = {
  dimension: (v) => `${v}-d vectors`,
  pooling: (v) => `${v} pooling`,
  normalize: (v) => `normalize ${v}`,
  queryPrefix: (v) => `the query prefix ${JSON.stringify(v)}`,
  documentPrefix: (v) => `the document prefix ${JSON.stringify(v)}`,
};

const shown = (v: string | number | boolean): string =>
  typeof v === "string" ? JSON.stringify(v) : String(v);

/**
 * The config the encoder runs with: the directory's declaration (`declared`, read from `file`)
 * checked against the spec's settings. Throws SpaceContradictionError listing every contradiction.
 */
export function effectiveModelConfig(declared: ModelConfig, file: string, spec: SpaceSettings): ModelConfig {
  const contradictions: string[] = [];
  const exact = <F extends ExactField>(field: F) => {
    const want = spec[field];
    const have = declared[field];
    if (want === undefined || want === have) return;
    contradictions.push(
      `spec.${field} is ${shown(want)} but ${file} declares ${shown(have)}: make them agree ` +
        `(set spec.${field} to ${shown(have)}, or point spec.source at a model directory exported for ` +
        `${exportFor[field](want as NonNullable<SpaceSettings[F]>)})`,
    );
  };
  exact("dimension");
  exact("pooling");
  exact("normalize");
  const max = spec.maxSequenceLength;
  if (max !== undefined && max > declared.maxSequenceLength) {
    contradictions.push(
      `spec.maxSequenceLength is ${max} but ${file} declares ${declared.maxSequenceLength}: the export ` +
        `supports at most ${declared.maxSequenceLength} tokens (set spec.maxSequenceLength to ` +
        `${declared.maxSequenceLength} or lower, or point spec.source at a model directory exported for ` +
        `${max} tokens)`,
    );
  }
  exact("queryPrefix");
  exact("documentPrefix");
  if (contradictions.length > 0) throw new SpaceContradictionError(contradictions);
  return { ...declared, maxSequenceLength: max ?? declared.maxSequenceLength };
}
