// The embedding space crosses a process boundary as flags: what encoderSpaceArgs writes from a spec
// must read back as the same settings, prefixes that are empty or start with "-" included.
import { parseArgs } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddingModelSpec } from "../../../src/api/v1alpha1/index.js";
import { UsageError } from "../../../src/cli/options.js";
import { spaceFlags, spaceSettings } from "../../../src/cli/space-flags.js";
import { encoderSpaceArgs } from "../../../src/core/role-args.js";

const spec = (extra: Record<string, unknown> = {}) =>
  EmbeddingModelSpec.parse({ source: { path: "/m" }, dimension: 384, pooling: "mean", ...extra });

const read = (args: string[]) =>
  spaceSettings(parseArgs({ args, options: spaceFlags, strict: true }).values as Record<string, unknown>);

const ENV = [
  "EMBEDOPS_QUERY_PREFIX",
  "EMBEDOPS_DOCUMENT_PREFIX",
  "EMBEDOPS_POOLING",
  "EMBEDOPS_MAX_SEQUENCE_LENGTH",
];

describe("the encoder's space flags", () => {
  afterEach(() => {
    for (const name of ENV) delete process.env[name];
  });

  const specs: { when: string; extra: Record<string, unknown> }[] = [
    { when: "the spec takes the defaults", extra: {} },
    {
      when: "the spec sets every field",
      extra: {
        dimension: 768,
        pooling: "cls",
        normalize: false,
        maxSequenceLength: 128,
        queryPrefix: "query: ",
        documentPrefix: "passage: ",
      },
    },
    { when: "a prefix starts with a dash", extra: { queryPrefix: "-q ", documentPrefix: "--d" } },
    { when: "a prefix holds = and quotes", extra: { queryPrefix: 'a=b "c" ' } },
  ];
  for (const c of specs) {
    it(`when ${c.when}, then encoderSpaceArgs reads back as the spec's six settings`, () => {
      const s = spec(c.extra);
      expect(read(encoderSpaceArgs(s))).toEqual({
        dimension: s.dimension,
        pooling: s.pooling,
        normalize: s.normalize,
        maxSequenceLength: s.maxSequenceLength,
        queryPrefix: s.queryPrefix,
        documentPrefix: s.documentPrefix,
      });
    });
  }

  it("when the spec's prefixes are empty, then the flags still carry them (the empty prefix is checked too)", () => {
    const args = encoderSpaceArgs(spec());
    expect(args).toContain("--query-prefix=");
    expect(read(args)).toMatchObject({ queryPrefix: "", documentPrefix: "" });
  });

  it("when no flag is given, then no setting is (the directory's declaration is used)", () => {
    expect(Object.values(read([])).every((v) => v === undefined)).toBe(true);
  });

  it("when only EMBEDOPS_* variables are set, then they are read, an empty prefix included; a flag beats them", () => {
    process.env.EMBEDOPS_QUERY_PREFIX = "";
    process.env.EMBEDOPS_DOCUMENT_PREFIX = "passage: ";
    process.env.EMBEDOPS_POOLING = "cls";
    process.env.EMBEDOPS_MAX_SEQUENCE_LENGTH = "64";
    expect(read([])).toMatchObject({
      queryPrefix: "",
      documentPrefix: "passage: ",
      pooling: "cls",
      maxSequenceLength: 64,
    });
    expect(read(["--pooling", "mean", "--document-prefix="])).toMatchObject({
      pooling: "mean",
      documentPrefix: "",
    });
  });

  const bad: { args: string[]; message: RegExp }[] = [
    { args: ["--pooling", "max"], message: /--pooling must be mean or cls, got "max"/ },
    { args: ["--normalize", "yes"], message: /--normalize must be true or false, got "yes"/ },
    { args: ["--dimension", "0"], message: /--dimension must be an integer between 1 and 65536/ },
    { args: ["--max-sequence-length", "1"], message: /--max-sequence-length must be an integer between 2/ },
    { args: ["--max-sequence-length", "12.5"], message: /--max-sequence-length must be an integer/ },
  ];
  for (const c of bad) {
    it(`when ${c.args.join(" ")} is given, then it is a usage error naming the flag`, () => {
      expect(() => read(c.args)).toThrow(UsageError);
      expect(() => read(c.args)).toThrow(c.message);
    });
  }
});
