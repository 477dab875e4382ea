import { describe, expect, it } from "vitest";
import {
  GoldenSetError,
  maxGoldenLines,
  parseGoldenSet,
  probeGoldenSet,
} from "../../../src/generation/golden-set.js";
import { DEFAULT_PROBE_TEXTS } from "../../../src/rollout/probe-texts.js";

function errorOf(text: string): GoldenSetError {
  try {
    parseGoldenSet(text);
  } catch (err) {
    if (err instanceof GoldenSetError) return err;
    throw err;
  }
  throw new Error("parsed without an error");
}

describe("parseGoldenSet: accepted", () => {
  it("when lines list queries with and without relevant ids, then each becomes {query, relevant}", () => {
    const text = [
      '{"query": "a dog barking", "relevant": ["d1", "d7"]}',
      '{"query": "sea shells"}',
      '{"query": "empty list", "relevant": []}',
    ].join("\n");
    expect(parseGoldenSet(text)).toEqual([
      { query: "a dog barking", relevant: ["d1", "d7"] },
      { query: "sea shells", relevant: [] },
      { query: "empty list", relevant: [] },
    ]);
  });

  it("when there are blank lines, CRLF endings and a trailing newline, then they are ignored", () => {
    const text = '\r\n{"query":"a"}\r\n   \r\n\t\n{"query":"b","relevant":["x"]}\r\n';
    expect(parseGoldenSet(text)).toEqual([
      { query: "a", relevant: [] },
      { query: "b", relevant: ["x"] },
    ]);
  });

  it("when a query appears twice, then both lines are kept (duplicates weigh a query)", () => {
    expect(parseGoldenSet('{"query":"q"}\n{"query":"q","relevant":["a"]}')).toHaveLength(2);
  });

  it("when a line repeats a relevant id, then it counts once", () => {
    expect(parseGoldenSet('{"query":"q","relevant":["a","b","a"]}')[0]?.relevant).toEqual(["a", "b"]);
  });

  it("when the text is empty or only blank lines, then the set is empty (the gate reports that)", () => {
    expect(parseGoldenSet("")).toEqual([]);
    expect(parseGoldenSet("\n \n")).toEqual([]);
  });

  it(`when the set has exactly ${maxGoldenLines} queries, then it is accepted`, () => {
    const text = Array.from({ length: maxGoldenLines }, (_, i) => `{"query":"q${i}"}`).join("\n");
    expect(parseGoldenSet(text)).toHaveLength(maxGoldenLines);
  });
});

describe("parseGoldenSet: refused, naming the line and the field", () => {
  const cases: { name: string; text: string; line: number; field: string; message: RegExp }[] = [
    {
      name: "a line is not JSON",
      text: '{"query":"a"}\n\n{"query": "b"',
      line: 3,
      field: "line",
      message: /golden set line 3: line is not valid JSON/,
    },
    {
      name: "a line is a JSON array",
      text: '["a"]',
      line: 1,
      field: "line",
      message: /must be a JSON object/,
    },
    {
      name: "query is missing",
      text: '{"query":"a"}\n{"relevant":["x"]}',
      line: 2,
      field: "query",
      message: /line 2: query is required/,
    },
    {
      name: "query is a number",
      text: '{"query":3}',
      line: 1,
      field: "query",
      message: /query must be a string/,
    },
    {
      name: "query is blank",
      text: '{"query":"  "}',
      line: 1,
      field: "query",
      message: /query must not be empty/,
    },
    {
      name: "relevant is a string",
      text: '{"query":"a","relevant":"x"}',
      line: 1,
      field: "relevant",
      message: /relevant must be an array of document ids/,
    },
    {
      name: "a relevant id is a number",
      text: '{"query":"a"}\n{"query":"b","relevant":["x",7]}',
      line: 2,
      field: "relevant[1]",
      message: /line 2: relevant\[1\] must be a string/,
    },
    {
      name: "a line has an unknown field",
      text: '{"query":"a","relevent":["x"]}',
      line: 1,
      field: "relevent",
      message: /relevent is not a golden set field/,
    },
    {
      name: "the set is longer than the limit",
      text: Array.from({ length: maxGoldenLines + 1 }, (_, i) => `{"query":"q${i}"}`).join("\n"),
      line: maxGoldenLines + 1,
      field: "line",
      message: /past the limit of 10000 queries/,
    },
  ];
  for (const c of cases) {
    it(`when ${c.name}, then the error names line ${c.line} and ${c.field}`, () => {
      const e = errorOf(c.text);
      expect([e.line, e.field]).toEqual([c.line, c.field]);
      expect(e.message).toMatch(c.message);
    });
  }
});

describe("probeGoldenSet", () => {
  it("when the rollout names probe texts, then they are the gate's queries, without relevant ids", () => {
    expect(probeGoldenSet(["a tree", "a river"])).toEqual([
      { query: "a tree", relevant: [] },
      { query: "a river", relevant: [] },
    ]);
  });

  it("when it names none, then the built-in probe texts are used", () => {
    const golden = probeGoldenSet(undefined);
    expect(golden.map((q) => q.query)).toEqual([...DEFAULT_PROBE_TEXTS]);
    expect(golden.every((q) => q.relevant.length === 0)).toBe(true);
  });
});
