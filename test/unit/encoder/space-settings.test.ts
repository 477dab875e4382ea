import { describe, expect, it } from "vitest";
import type { ModelConfig } from "../../../src/encoder/engine-types.js";
import {
  effectiveModelConfig,
  SpaceContradictionError,
  type SpaceSettings,
} from "../../../src/encoder/space-settings.js";

const FILE = "/x/models/bge-small-en-v1.5/embedops-model.json";
const declared: ModelConfig = {
  name: "bge-small-en-v1.5",
  dimension: 384,
  pooling: "cls",
  normalize: true,
  maxSequenceLength: 512,
  queryPrefix: "Represent this sentence for searching relevant passages: ",
  documentPrefix: "",
};
const agreeing: SpaceSettings = {
  dimension: 384,
  pooling: "cls",
  normalize: true,
  maxSequenceLength: 512,
  queryPrefix: "Represent this sentence for searching relevant passages: ",
  documentPrefix: "",
};

function contradictionsOf(spec: SpaceSettings): readonly string[] {
  try {
    effectiveModelConfig(declared, FILE, spec);
  } catch (err) {
    if (err instanceof SpaceContradictionError) return err.contradictions;
    throw err;
  }
  throw new Error("expected a SpaceContradictionError");
}

describe("effectiveModelConfig", () => {
  const accepted: { when: string; spec: SpaceSettings; want: ModelConfig }[] = [
    { when: "the spec gives no setting", spec: {}, want: declared },
    { when: "every setting equals the declaration", spec: agreeing, want: declared },
    {
      when: "spec.maxSequenceLength is lower than the declared one",
      spec: { ...agreeing, maxSequenceLength: 128 },
      want: { ...declared, maxSequenceLength: 128 },
    },
    {
      when: "only spec.maxSequenceLength is given, lower",
      spec: { maxSequenceLength: 2 },
      want: { ...declared, maxSequenceLength: 2 },
    },
  ];
  for (const c of accepted) {
    it(`when ${c.when}, then the effective config is ${c.want === declared ? "the declaration" : "the declaration with the spec's maxSequenceLength"}`, () => {
      expect(effectiveModelConfig(declared, FILE, c.spec)).toEqual(c.want);
    });
  }

  // One contradiction per field; each sentence must name the spec field, both values, the file and
  // a fix, so a user can act on it without reading code.
  const refused: { field: string; spec: SpaceSettings; sentence: string }[] = [
    {
      field: "dimension",
      spec: { dimension: 768 },
      sentence: `spec.dimension is 768 but ${FILE} declares 384: make them agree (set spec.dimension to 384, or point spec.source at a model directory exported for 768-d vectors)`,
    },
    {
      field: "pooling",
      spec: { pooling: "mean" },
      sentence: `spec.pooling is "mean" but ${FILE} declares "cls": make them agree (set spec.pooling to "cls", or point spec.source at a model directory exported for mean pooling)`,
    },
    {
      field: "normalize",
      spec: { normalize: false },
      sentence: `spec.normalize is false but ${FILE} declares true: make them agree (set spec.normalize to true, or point spec.source at a model directory exported for normalize false)`,
    },
    {
      field: "maxSequenceLength (higher)",
      spec: { maxSequenceLength: 1024 },
      sentence: `spec.maxSequenceLength is 1024 but ${FILE} declares 512: the export supports at most 512 tokens (set spec.maxSequenceLength to 512 or lower, or point spec.source at a model directory exported for 1024 tokens)`,
    },
    {
      field: "queryPrefix (the spec's default, empty)",
      spec: { queryPrefix: "" },
      sentence: `spec.queryPrefix is "" but ${FILE} declares "Represent this sentence for searching relevant passages: ": make them agree (set spec.queryPrefix to "Represent this sentence for searching relevant passages: ", or point spec.source at a model directory exported for the query prefix "")`,
    },
    {
      field: "documentPrefix",
      spec: { documentPrefix: "passage: " },
      sentence: `spec.documentPrefix is "passage: " but ${FILE} declares "": make them agree (set spec.documentPrefix to "", or point spec.source at a model directory exported for the document prefix "passage: ")`,
    },
  ];
  for (const c of refused) {
    it(`when spec.${c.field} contradicts the declaration, then the one contradiction names both values, the file and the fix`, () => {
      expect(contradictionsOf({ ...agreeing, ...c.spec })).toEqual([c.sentence]);
    });
  }

  it("when several fields contradict, then every contradiction is listed, in field order, in one error", () => {
    const spec: SpaceSettings = {
      dimension: 768,
      pooling: "mean",
      normalize: false,
      maxSequenceLength: 1024,
      queryPrefix: "",
      documentPrefix: "passage: ",
    };
    const all = contradictionsOf(spec);
    expect(all).toEqual(refused.map((c) => c.sentence));
    expect(() => effectiveModelConfig(declared, FILE, spec)).toThrow(all.join("; "));
  });

  it("when spec.maxSequenceLength equals the declared one, then it is accepted (the bound is inclusive)", () => {
    expect(effectiveModelConfig(declared, FILE, { maxSequenceLength: 512 }).maxSequenceLength).toBe(512);
    expect(contradictionsOf({ maxSequenceLength: 513 })).toHaveLength(1);
  });

  it("when a prefix holds quotes, then the message shows it as a JSON string", () => {
    const [sentence] = contradictionsOf({ documentPrefix: 'say "hi": ' });
    expect(sentence).toContain(`spec.documentPrefix is "say \\"hi\\": " but ${FILE} declares ""`);
  });
});
