import { describe, expect, it } from "vitest";
import {
  defaultRelevantTolerance,
  exactIdsWithTies,
  type GoldenQueryResults,
  gateVerdict,
  recallAtK,
  relevantRecall,
} from "../../../src/generation/recall.js";

const ids = (s: string) => (s === "" ? [] : s.split(","));

describe("recallAtK", () => {
  it.each([
    { ann: "a,b,c", exact: "a,b,c", k: 3, want: 1 },
    { ann: "c,b,a", exact: "a,b,c", k: 3, want: 1 },
    { ann: "a,b,x", exact: "a,b,c", k: 3, want: 2 / 3 },
    { ann: "x,y,z", exact: "a,b,c", k: 3, want: 0 },
    { ann: "a,b,c,d", exact: "a,b,c,x", k: 3, want: 1 },
    { ann: "x,a,b", exact: "a,b,c", k: 2, want: 1 / 2 },
    // k larger than the index: the exact answer is all there is to find.
    { ann: "a,b", exact: "a,b", k: 10, want: 1 },
    { ann: "a", exact: "a,b", k: 10, want: 1 / 2 },
    // a duplicated ANN id counts once
    { ann: "a,a,a", exact: "a,b,c", k: 3, want: 1 / 3 },
    { ann: "", exact: "a,b", k: 10, want: 0 },
    { ann: "", exact: "", k: 10, want: 1 },
  ])("when ANN is [$ann] and exact is [$exact] at k $k, then recall is $want", ({ ann, exact, k, want }) => {
    expect(recallAtK(ids(ann), ids(exact), k)).toBeCloseTo(want, 12);
  });
});

describe("relevantRecall", () => {
  it.each([
    { results: "a,b,c", relevant: "a", k: 3, want: 1 },
    { results: "a,b,c", relevant: "c", k: 2, want: 0 },
    { results: "a,b,c", relevant: "a,c,z", k: 3, want: 2 / 3 },
    // more relevant ids than k: finding k of them is full marks
    { results: "a,b", relevant: "a,b,c,d", k: 2, want: 1 },
    { results: "a,x", relevant: "a,b,c,d", k: 2, want: 1 / 2 },
    // k larger than the results
    { results: "a", relevant: "a,b", k: 10, want: 1 / 2 },
    { results: "", relevant: "a", k: 10, want: 0 },
    { results: "a,a", relevant: "a,b", k: 2, want: 1 / 2 },
    { results: "a,b", relevant: "a,a", k: 2, want: 1 },
  ])(
    "when results are [$results] and relevant is [$relevant] at k $k, then $want",
    ({ results, relevant, k, want }) => {
      expect(relevantRecall(ids(results), ids(relevant), k)).toBeCloseTo(want, 12);
    },
  );

  it("when nothing is relevant, then it is undefined (the query does not count)", () => {
    expect(relevantRecall(["a"], [], 10)).toBeUndefined();
  });
});

describe("exactIdsWithTies", () => {
  const h = (spec: string) =>
    ids(spec).map((p) => {
      const [id, score] = p.split(":");
      return { id: id as string, score: Number(score) };
    });
  it.each([
    { name: "no tie", ann: "a:.9,x:.8", exact: "a:.9,b:.8,c:.7", k: 2, want: "a,b" },
    {
      name: "a tie at the k-th place that ANN broke the other way",
      ann: "a:.9,c:.8",
      exact: "a:.9,b:.8,c:.8",
      k: 2,
      want: "a,c",
    },
    {
      name: "a tie that ANN broke the same way",
      ann: "a:.9,b:.8",
      exact: "a:.9,b:.8,c:.8",
      k: 2,
      want: "a,b",
    },
    {
      name: "a tie across the k-th place, ANN holds neither",
      ann: "a:.9,z:.1",
      exact: "a:.9,b:.8,c:.8",
      k: 2,
      want: "a,b",
    },
    {
      name: "a three-way tie above the k-th place is kept",
      ann: "d:.5",
      exact: "a:.9,b:.9,c:.9,d:.5",
      k: 3,
      want: "a,b,c",
    },
    { name: "fewer exact hits than k", ann: "a:.9", exact: "a:.9,b:.8", k: 10, want: "a,b" },
  ])("when $name, then the exact ids are [$want]", ({ ann, exact, k, want }) => {
    expect(exactIdsWithTies(h(ann), h(exact), k)).toEqual(ids(want));
  });
});

describe("gateVerdict", () => {
  const q = (annN1: string, exactN1: string, relevant = "", resultsN?: string): GoldenQueryResults => ({
    query: `q ${annN1}`,
    annN1: ids(annN1),
    exactN1: ids(exactN1),
    relevant: ids(relevant),
    resultsN: resultsN === undefined ? undefined : ids(resultsN),
  });
  const names = { n: "g-a1", n1: "g-b2" };

  it("when the golden set is empty, then it fails saying so", () => {
    const v = gateVerdict({ k: 10, minRecall: 0.9, perQuery: [] });
    expect([v.pass, v.reason, v.queries]).toEqual([false, "EmptyGoldenSet", 0]);
    expect(v.message).toMatch(/^the golden set has no queries/);
  });

  it("when ANN recall is below minRecall, then it fails naming the value, the minimum and the query count", () => {
    const perQuery = [q("a,b,x", "a,b,c"), q("a,x,y", "a,b,c")];
    const v = gateVerdict({ k: 3, minRecall: 0.9, perQuery, names });
    expect([v.pass, v.reason]).toEqual([false, "RecallBelowMinimum"]);
    expect(v.recallAtK).toBeCloseTo(0.5, 12);
    expect(v.message).toBe(
      "recall@3 0.50 < minRecall 0.90 on 2 golden queries (generation g-b2's ANN answers against its exact search)",
    );
  });

  it("when recall equals minRecall exactly, then it passes (the minimum is inclusive)", () => {
    const perQuery = [q("a,b,c,d,e,f,g,h,i,x", "a,b,c,d,e,f,g,h,i,j")];
    const v = gateVerdict({ k: 10, minRecall: 0.9, perQuery });
    expect([v.pass, v.recallAtK]).toEqual([true, 0.9]);
  });

  it("when recall is a hair under minRecall, then the message shows enough digits to tell them apart", () => {
    const perQuery = [
      ...Array.from({ length: 999 }, () => q("a", "a")),
      ...Array.from({ length: 112 }, () => q("x", "a")),
    ];
    const v = gateVerdict({ k: 1, minRecall: 0.9, perQuery });
    expect(v.pass).toBe(false);
    expect(v.message).toMatch(/^recall@1 0\.8992 < minRecall 0\.9000 on 1111 golden queries/);
  });

  it("when no query lists relevant ids, then relevant recall is skipped and the message says so", () => {
    const v = gateVerdict({ k: 2, minRecall: 0.9, perQuery: [q("a,b", "a,b")], names });
    expect([v.pass, v.reason, v.relevantRecallN, v.relevantRecallN1]).toEqual([
      true,
      "Passed",
      undefined,
      undefined,
    ]);
    expect(v.message).toBe(
      "recall@2 1.00 >= minRecall 0.90 on 1 golden query; relevant recall not checked: no golden query lists relevant ids",
    );
  });

  it("when N+1 finds the relevant ids as often as N, then it passes with both numbers", () => {
    const perQuery = [q("a,b", "a,b", "a", "a,z"), q("c,d", "c,d", "x", "y,z"), q("e,f", "e,f")];
    const v = gateVerdict({ k: 2, minRecall: 0.9, perQuery, names });
    expect([v.pass, v.relevantRecallN, v.relevantRecallN1, v.relevantQueries]).toEqual([true, 0.5, 0.5, 2]);
    expect(v.message).toBe(
      "recall@2 1.00 >= minRecall 0.90 on 3 golden queries; relevant recall@2 0.50 on generation g-b2 against 0.50 on g-a1 (tolerance 0.05, 2 queries with relevant ids)",
    );
  });

  it("when N+1 finds fewer relevant ids than N by more than the tolerance, then it fails naming both generations", () => {
    // N finds 4 of 5, N+1 finds 3 of 5: a drop of 0.20
    const perQuery = [
      q("a,b", "a,b", "a", "a"),
      q("c,d", "c,d", "c", "c"),
      q("e,f", "e,f", "e", "e"),
      q("g,h", "g,h", "z", "z"),
      q("i,j", "i,j", "y", "q"),
    ];
    const v = gateVerdict({ k: 2, minRecall: 0.9, perQuery, names });
    expect([v.pass, v.reason]).toEqual([false, "RelevantRecallRegressed"]);
    expect(v.relevantRecallN).toBeCloseTo(0.8, 12);
    expect(v.relevantRecallN1).toBeCloseTo(0.6, 12);
    expect(v.message).toBe(
      "relevant recall@2 0.60 on generation g-b2 is 0.20 below 0.80 on g-a1 (tolerance 0.05, 5 queries with relevant ids)",
    );
  });

  it("when the drop equals the tolerance (0.77 - 0.72 in floats), then it passes", () => {
    const perQuery = [q("a", "a", "a", "a")];
    const base = gateVerdict({ k: 1, minRecall: 0.5, perQuery });
    expect(base.pass).toBe(true);
    // 100 queries: N finds 77, N+1 finds 72
    const many = Array.from({ length: 100 }, (_, i) =>
      q(i < 72 ? "r" : "x", i < 72 ? "r" : "x", "r", i < 77 ? "r" : "x"),
    );
    const v = gateVerdict({ k: 1, minRecall: 0.5, tolerance: 0.05, perQuery: many });
    expect(v.relevantRecallN! - v.relevantRecallN1!).toBeGreaterThan(0.05); // float: 0.05000000000000004
    expect(v.pass).toBe(true);
    const w = gateVerdict({ k: 1, minRecall: 0.5, tolerance: 0.04, perQuery: many });
    expect(w.pass).toBe(false);
  });

  it("when N+1 is better than N, then it passes whatever the tolerance", () => {
    const perQuery = [q("a", "a", "a", "x")];
    const v = gateVerdict({ k: 1, minRecall: 0.9, tolerance: 0, perQuery });
    expect([v.pass, v.relevantRecallN, v.relevantRecallN1]).toEqual([true, 0, 1]);
  });

  it("when recall fails and relevant recall would fail too, then recall is the reason (checked first)", () => {
    const v = gateVerdict({ k: 1, minRecall: 0.9, perQuery: [q("x", "a", "a", "a")] });
    expect(v.reason).toBe("RecallBelowMinimum");
  });

  it("when exact search finds nothing for a query, then it fails: an empty generation is not a good one", () => {
    const v = gateVerdict({ k: 10, minRecall: 0.9, perQuery: [q("", ""), q("a", "a")], names });
    expect([v.pass, v.reason]).toEqual([false, "NoResults"]);
    expect(v.message).toMatch(/exact search on generation g-b2 found nothing for 1 of 2 golden queries/);
  });

  it("when a query with relevant ids has no results from N, then it is a programming error", () => {
    expect(() => gateVerdict({ k: 1, minRecall: 0.5, perQuery: [q("a", "a", "a")] })).toThrow(
      /lists relevant ids but has no results from generation N/,
    );
  });

  it("when the tolerance is not given, then it is the documented default 0.05", () => {
    expect(defaultRelevantTolerance).toBe(0.05);
    // N finds all 100, N+1 misses 6: a drop of 0.06
    const many = Array.from({ length: 100 }, (_, i) => {
      const id = i < 94 ? "r" : "z";
      return q("r", "r", id, id);
    });
    expect(gateVerdict({ k: 1, minRecall: 0.5, perQuery: many }).pass).toBe(false);
    expect(gateVerdict({ k: 1, minRecall: 0.5, perQuery: many.slice(0, 98) }).pass).toBe(true); // misses 4 of 98
  });
});
