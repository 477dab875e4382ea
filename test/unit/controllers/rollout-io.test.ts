import { describe, expect, it } from "vitest";
import {
  type AnalysisIo,
  type IntervalTarget,
  intervalVerdict,
  ScrapeBaselines,
  startWindow,
} from "../../../controllers/embedding-model/rollout-io.js";
import { model } from "../builders/fixtures.js";

const H = "embedops_encoder_request_duration_seconds";

/** A /metrics body: `n` requests of `revision`, all under `le` seconds. */
function metrics(revision: string, n: number, le: number, status = "200"): string {
  const l = `route="/v1/embeddings",status="${status}",revision="${revision}"`;
  return [0.05, 0.5, 2.5]
    .map((b) => `${H}_bucket{${l},le="${b}"} ${b >= le ? n : 0}`)
    .concat(`${H}_bucket{${l},le="+Inf"} ${n}`, `${H}_count{${l}} ${n}`)
    .join("\n");
}

/** Each scrape of a revision has served `perScrape` more requests under `le`. */
function io(perScrape: Record<string, { n: number; le: number } | "down">, prometheus?: unknown): AnalysisIo {
  const served = new Map<string, number>();
  return {
    scrape: async (_m, _ns, revision) => {
      const p = perScrape[revision];
      if (p === "down" || p === undefined) throw new Error(`connect ECONNREFUSED (${revision})`);
      served.set(revision, (served.get(revision) ?? 0) + p.n);
      return metrics(revision, served.get(revision) ?? 0, p.le);
    },
    fetchPrometheus: async () => Response.json(prometheus),
    baselines: new ScrapeBaselines(),
  };
}

const target = (spec = model().spec): IntervalTarget => ({
  model: "minilm",
  namespace: "ns",
  spec,
  candidate: "cand",
  stable: "stab",
  weight: 10,
  window: { fromMs: 0, toMs: 10_000 },
});

describe("the interval verdict from two /metrics scrapes", () => {
  it("when there is no baseline yet (a restarted operator), then no verdict, and this scrape becomes the baseline", async () => {
    const x = io({ cand: { n: 50, le: 0.05 } });
    expect(await intervalVerdict(x, target())).toBeUndefined();
    expect(await intervalVerdict(x, target())).toMatchObject({ result: "Pass" });
  });

  it.each([
    ["fast and enough requests", { n: 50, le: 0.05 }, "Pass", /50 requests/],
    ["slow", { n: 50, le: 2.5 }, "Fail", /p99 [\d.]+ ms > 500 ms at weight 10%/],
    ["fast but too few requests", { n: 5, le: 0.05 }, "Inconclusive", /only 5 of the 20 requests/],
  ] as const)("when the candidate is %s, then %s", async (_c, p, result, message) => {
    const x = io({ cand: p });
    await startWindow(x, target());
    const v = await intervalVerdict(x, target());
    expect(v?.result).toBe(result);
    expect(v?.message).toMatch(message);
  });

  it("when the candidate's /metrics cannot be read, then the check is Inconclusive, naming why", async () => {
    const v = await intervalVerdict(io({ cand: "down" }), target());
    expect(v).toMatchObject({ result: "Inconclusive" });
    expect(v?.message).toContain("ECONNREFUSED");
  });

  it("when maxLatencyIncreasePercent is set, then the stable is scraped too and compared", async () => {
    const spec = model({ rollout: { slo: { maxLatencyIncreasePercent: 50, maxP99LatencyMs: 5000 } } }).spec;
    const x = io({ cand: { n: 50, le: 2.5 }, stab: { n: 50, le: 0.05 } });
    await startWindow(x, target(spec));
    const v = await intervalVerdict(x, target(spec));
    expect(v?.result).toBe("Fail");
    expect(v?.message).toMatch(/stable/);
  });

  it("when slo.prometheus has a p99 query, then the p99 comes from Prometheus and the rest from /metrics", async () => {
    const spec = model({
      rollout: {
        slo: { prometheus: { url: "http://prom:9090", p99LatencyQuery: 'p99{revision="$revision"}' } },
      },
    }).spec;
    const answer = { status: "success", data: { resultType: "vector", result: [{ value: [10, "0.9"] }] } };
    const x = io({ cand: { n: 50, le: 0.05 } }, answer);
    await startWindow(x, target(spec));
    const v = await intervalVerdict(x, target(spec));
    expect(v?.result).toBe("Fail");
    expect(v?.message).toMatch(/p99 900 ms > 500 ms/);
  });

  it("when Prometheus answers an error, then the check is Inconclusive with its text", async () => {
    const spec = model({
      rollout: { slo: { prometheus: { url: "http://prom:9090", requestsQuery: "sum(x)" } } },
    }).spec;
    const v = await intervalVerdict(io({}, { status: "error", error: "bad_data" }), target(spec));
    expect(v?.result).toBe("Inconclusive");
    expect(v?.message).toContain("bad_data");
  });
});
