import { describe, expect, it } from "vitest";
import { filterSchema, matches, toFilter } from "../../../src/shard/filter.js";
import { FilterIndex } from "../../../src/shard/filter-index.js";

const docs: Record<number, Record<string, unknown>> = {
  1: { lang: "en", year: 2020, draft: false },
  2: { lang: "de", year: 2021, draft: true },
  3: { lang: "en", year: 2021, tags: ["a"] },
  4: { lang: "1", year: "2021" },
  5: { lang: null },
};

function parse(input: unknown) {
  return toFilter(filterSchema.parse(input));
}

describe("filter matching", () => {
  const cases: { name: string; filter: unknown; want: number[] }[] = [
    { name: "one equality", filter: { lang: "en" }, want: [1, 3] },
    { name: "two keys are ANDed", filter: { lang: "en", year: 2021 }, want: [3] },
    { name: "in is OR within a key", filter: { lang: { in: ["de", "en"] } }, want: [1, 2, 3] },
    { name: "a number never equals its string", filter: { year: 2021 }, want: [2, 3] },
    { name: "a string never equals the number", filter: { year: "2021" }, want: [4] },
    { name: "booleans match exactly", filter: { draft: false }, want: [1] },
    { name: "null matches explicit null only", filter: { lang: null }, want: [5] },
    { name: "missing key matches nothing", filter: { nope: 1 }, want: [] },
    { name: "arrays are never matched", filter: { tags: "a" }, want: [] },
  ];
  for (const c of cases) {
    it(`when the filter is ${c.name}, then matches() and the inverted index agree on ${JSON.stringify(c.want)}`, () => {
      const f = parse(c.filter);
      const byScan = Object.entries(docs)
        .filter(([, m]) => matches(m, f))
        .map(([l]) => Number(l));
      const idx = new FilterIndex();
      for (const [l, m] of Object.entries(docs)) idx.add(Number(l), m);
      expect(byScan).toEqual(c.want);
      expect([...idx.candidates(f)].sort()).toEqual(c.want);
    });
  }
});

describe("filter index maintenance", () => {
  it("when a label is removed with its metadata, then it no longer matches and its postings are freed", () => {
    const idx = new FilterIndex();
    idx.add(1, { lang: "en" });
    idx.add(2, { lang: "en" });
    idx.remove(1, { lang: "en" });
    expect([...idx.candidates(parse({ lang: "en" }))]).toEqual([2]);
    idx.remove(2, { lang: "en" });
    expect(idx.candidates(parse({ lang: "en" })).size).toBe(0);
    expect(idx.estimatedBytes()).toBe(0);
  });
});

describe("filter parsing", () => {
  const bad: { name: string; filter: unknown; path: (string | number)[] }[] = [
    { name: "an unknown operator", filter: { lang: { eq: "en" } }, path: ["lang"] },
    { name: "in with a non-array", filter: { lang: { in: "en" } }, path: ["lang"] },
    { name: "in with an empty array", filter: { lang: { in: [] } }, path: ["lang", "in"] },
    { name: "a nested object value", filter: { lang: { a: { b: 1 } } }, path: ["lang"] },
    { name: "an array value", filter: { lang: ["en"] }, path: ["lang"] },
    { name: "an array instead of an object", filter: ["lang"], path: [] },
  ];
  for (const c of bad) {
    it(`when the filter has ${c.name}, then parsing fails at ${JSON.stringify(c.path)}`, () => {
      const r = filterSchema.safeParse(c.filter);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.path).toEqual(c.path);
    });
  }
});
