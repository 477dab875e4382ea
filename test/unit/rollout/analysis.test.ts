import { describe, expect, it } from "vitest";
import type { Slo } from "../../../src/api/v1alpha1/index.js";
import { type AnalysisInput, analyze, type MetricWindow } from "../../../src/rollout/analysis.js";

const SLO: Slo = { maxP99LatencyMs: 500, maxErrorRate: 0.01, minRequests: 20 };
const healthy: MetricWindow = { requests: 250, errors: 1, p99Ms: 120 };
const input = (over: Partial<AnalysisInput> = {}): AnalysisInput => ({
  slo: SLO,
  candidate: healthy,
  weight: 10,
  ...over,
});

describe("analyze", () => {
  type Case = { when: string; over: Partial<AnalysisInput>; result: string; message: string };
  it.each<Case>([
    {
      when: "the candidate is healthy",
      over: {},
      result: "Pass",
      message: "all checks passed at weight 10%: 250 requests, error rate 0.4% <= 1%, p99 120 ms <= 500 ms",
    },
    {
      when: "the candidate is slow",
      over: { candidate: { ...healthy, p99Ms: 812 } },
      result: "Fail",
      message: "p99 812 ms > 500 ms at weight 10%",
    },
    {
      when: "the candidate fails requests",
      over: { candidate: { requests: 500, errors: 21, p99Ms: 120 } },
      result: "Fail",
      message: "error rate 4.2% > 1% at weight 10%",
    },
    {
      when: "the candidate is slow and failing",
      over: { candidate: { requests: 500, errors: 21, p99Ms: 812 } },
      result: "Fail",
      message: "error rate 4.2% > 1% at weight 10%; p99 812 ms > 500 ms at weight 10%",
    },
    {
      when: "too few requests reached the candidate (even failing ones)",
      over: { candidate: { requests: 7, errors: 7, p99Ms: 9000 } },
      result: "Inconclusive",
      message: "only 7 of the 20 requests needed reached the candidate at weight 10%",
    },
    {
      when: "no requests reached the candidate",
      over: { candidate: { requests: 0, errors: 0 } },
      result: "Inconclusive",
      message: "only 0 of the 20 requests needed reached the candidate at weight 10%",
    },
    {
      when: "minRequests is 0 and nothing was served",
      over: { slo: { ...SLO, minRequests: 0 }, candidate: { requests: 0, errors: 0 } },
      result: "Inconclusive",
      message: "no latency observed for the candidate at weight 10%",
    },
    {
      when: "the error rate and p99 are exactly at their limits",
      over: { candidate: { requests: 100, errors: 1, p99Ms: 500 } },
      result: "Pass",
      message: "all checks passed at weight 10%: 100 requests, error rate 1% <= 1%, p99 500 ms <= 500 ms",
    },
    {
      when: "the error rate is just above the limit",
      over: { candidate: { requests: 10000, errors: 104, p99Ms: 100 } },
      result: "Fail",
      message: "error rate 1.04% > 1% at weight 10%",
    },
    {
      when: "p99 is just above the limit",
      over: { candidate: { ...healthy, p99Ms: 500.4 } },
      result: "Fail",
      message: "p99 500.4 ms > 500 ms at weight 10%",
    },
  ])("when $when, then the verdict is $result: $message", ({ over, result, message }) => {
    const v = analyze(input(over));
    expect(v.result).toBe(result);
    expect(v.message).toBe(message);
  });

  it("when several SLOs fail, then every failed check is listed with its value and limit", () => {
    const v = analyze(
      input({
        slo: { ...SLO, maxLatencyIncreasePercent: 20 },
        candidate: { requests: 500, errors: 21, p99Ms: 812 },
        stable: { requests: 4500, errors: 2, p99Ms: 501 },
      }),
    );
    expect(v.result).toBe("Fail");
    expect(v.checks.filter((c) => c.result === "Fail")).toEqual([
      {
        name: "error rate",
        value: 0.042,
        limit: 0.01,
        result: "Fail",
        message: "error rate 4.2% > 1% at weight 10%",
      },
      { name: "p99", value: 812, limit: 500, result: "Fail", message: "p99 812 ms > 500 ms at weight 10%" },
      {
        name: "p99 vs stable",
        value: expect.closeTo(62.08, 2),
        limit: 20,
        result: "Fail",
        message: "p99 812 ms is 62% above stable's 501 ms (limit 20%) at weight 10%",
      },
    ]);
  });
});

describe("analyze: no worse than stable by X %", () => {
  const slo = { ...SLO, maxLatencyIncreasePercent: 20 };

  it.each<[string, MetricWindow | undefined, MetricWindow, string, string]>([
    [
      "the candidate is 62% slower than stable",
      { requests: 900, errors: 0, p99Ms: 250 },
      { requests: 100, errors: 0, p99Ms: 405 },
      "Fail",
      "p99 405 ms is 62% above stable's 250 ms (limit 20%) at weight 10%",
    ],
    [
      "the candidate is 10% slower than stable",
      { requests: 900, errors: 0, p99Ms: 200 },
      { requests: 100, errors: 0, p99Ms: 220 },
      "Pass",
      "p99 220 ms is 10% above stable's 200 ms (limit 20%) at weight 10%",
    ],
    [
      "the candidate is faster than stable",
      { requests: 900, errors: 0, p99Ms: 200 },
      { requests: 100, errors: 0, p99Ms: 150 },
      "Pass",
      "p99 150 ms is 25% below stable's 200 ms (limit 20%) at weight 10%",
    ],
    [
      "the stable served too little to compare with",
      { requests: 3, errors: 0, p99Ms: 200 },
      { requests: 100, errors: 0, p99Ms: 150 },
      "Inconclusive",
      "the stable revision served 3 requests (20 needed) to compare p99 with at weight 10%",
    ],
    [
      "there is no stable window",
      undefined,
      { requests: 100, errors: 0, p99Ms: 150 },
      "Inconclusive",
      "the stable revision served 0 requests (20 needed) to compare p99 with at weight 10%",
    ],
  ])("when %s, then the comparison is named with both p99s", (_when, stable, candidate, result, message) => {
    const v = analyze(input({ slo, candidate, ...(stable ? { stable } : {}) }));
    const check = v.checks.find((c) => c.name === "p99 vs stable");
    expect(check?.result).toBe(result);
    expect(check?.message).toBe(message);
    expect(v.result).toBe(result);
  });

  it("when the SLO is not set, then no comparison with stable is made", () => {
    const v = analyze(
      input({ candidate: { ...healthy, p99Ms: 400 }, stable: { requests: 1000, errors: 0, p99Ms: 10 } }),
    );
    expect(v.result).toBe("Pass");
    expect(v.checks.map((c) => c.name)).toEqual(["requests", "error rate", "p99"]);
  });
});
