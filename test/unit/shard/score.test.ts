import { describe, expect, it } from "vitest";
import { distance, exactTopK, normalized, scoreKind, toScore } from "../../../src/shard/score.js";

describe("scores", () => {
  const cases = [
    { metric: "cosine", d: 0.25, score: 0.75, kind: "cosine_similarity" },
    { metric: "ip", d: -2, score: 3, kind: "inner_product" },
    { metric: "l2", d: 4, score: -4, kind: "negative_squared_l2" },
  ] as const;
  for (const c of cases) {
    it(`when the metric is ${c.metric} and hnswlib says distance ${c.d}, then the score is ${c.score} (${c.kind})`, () => {
      expect(toScore(c.metric, c.d)).toBe(c.score);
      expect(scoreKind(c.metric)).toBe(c.kind);
    });
  }

  it("when one point is closer than another, then its score is higher for every metric", () => {
    for (const metric of ["cosine", "ip", "l2"] as const) {
      const q = [1, 0];
      const near = metric === "cosine" ? normalized([0.9, 0.1]) : [0.9, 0.1];
      const far = metric === "cosine" ? normalized([0.1, 0.9]) : [0.1, 0.9];
      const qq = metric === "cosine" ? normalized(q) : q;
      expect(toScore(metric, distance(metric, qq, near))).toBeGreaterThan(
        toScore(metric, distance(metric, qq, far)),
      );
    }
  });

  it("when l2 distance is computed, then it is squared as hnswlib's is", () => {
    expect(distance("l2", [0, 0], [3, 4])).toBe(25);
  });

  it("when exact search runs, then it returns the k nearest in ascending distance", () => {
    const cands = [
      { label: 1, vector: [5, 5] },
      { label: 2, vector: [1, 1] },
      { label: 3, vector: [0, 0] },
    ];
    expect(exactTopK("l2", [0, 0], cands, 2).map((n) => n.label)).toEqual([3, 2]);
  });
});
