import { describe, expect, it } from "vitest";
import {
  parseQueryResult,
  prometheusQueryUrl,
  renderQuery,
  windowFromPrometheus,
} from "../../../src/rollout/prometheus-api.js";

const vars = { revision: "5f3a9c0d12", intervalSeconds: 60, namespace: "search", name: "minilm" };

describe("renderQuery", () => {
  it("when a query uses every placeholder, then each is filled in", () => {
    const q =
      'histogram_quantile(0.99, sum by (le) (rate(x_bucket{namespace="$namespace",model="$name",revision="$revision"}[$interval])))';
    expect(renderQuery(q, vars)).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(x_bucket{namespace="search",model="minilm",revision="5f3a9c0d12"}[60s])))',
    );
  });

  it("when a word only starts like a placeholder, then it is left alone", () => {
    expect(renderQuery("$revisions $names", vars)).toBe("$revisions $names");
  });

  it("when the interval has a fraction (a shortened test interval), then it is whole seconds, at least 1", () => {
    expect(renderQuery("[$interval]", { ...vars, intervalSeconds: 0.4 })).toBe("[1s]");
  });
});

describe("prometheusQueryUrl", () => {
  it("when built, then the query is encoded and a trailing slash of the base is dropped", () => {
    const url = new URL(
      prometheusQueryUrl("http://prometheus.monitoring:9090/", 'sum(up{job="a"})', 1700000000),
    );
    expect(url.pathname).toBe("/api/v1/query");
    expect(url.searchParams.get("query")).toBe('sum(up{job="a"})');
    expect(url.searchParams.get("time")).toBe("1700000000");
  });
});

describe("parseQueryResult", () => {
  const vector = (...values: string[]) => ({
    status: "success",
    data: { resultType: "vector", result: values.map((v) => ({ metric: {}, value: [1700000000, v] })) },
  });
  it.each<[string, unknown, ReturnType<typeof parseQueryResult>]>([
    ["a one-sample vector", vector("0.2345"), { ok: true, value: 0.2345 }],
    [
      "a scalar",
      { status: "success", data: { resultType: "scalar", result: [1, "42"] } },
      { ok: true, value: 42 },
    ],
    ["an empty vector (no data)", vector(), { ok: true, value: undefined }],
    ["NaN (0/0 with no traffic)", vector("NaN"), { ok: true, value: undefined }],
    ["+Inf", vector("+Inf"), { ok: true, value: undefined }],
    [
      "several series",
      vector("1", "2"),
      { ok: false, error: "the query returned 2 series; wrap it in sum() to get one" },
    ],
    [
      "an error answer",
      { status: "error", errorType: "bad_data", error: "parse error at char 5" },
      { ok: false, error: "Prometheus answered error: parse error at char 5" },
    ],
    [
      "a matrix",
      { status: "success", data: { resultType: "matrix", result: [] } },
      { ok: false, error: "expected a scalar or a vector, got matrix" },
    ],
    ["not JSON of the API", "<html>", { ok: false, error: "Prometheus answered undefined: no error text" }],
  ])("when the answer is %s, then it is read as PromQL means it", (_when, body, expected) => {
    expect(parseQueryResult(body)).toEqual(expected);
  });
});

describe("windowFromPrometheus", () => {
  const fallback = { requests: 200, errors: 4, p99Ms: 80 };
  const url = "http://p:9090";

  it("when only the latency has a query, then requests and errors come from /metrics", () => {
    expect(windowFromPrometheus({ url, p99LatencyQuery: "q" }, { p99Seconds: 0.25 }, fallback)).toEqual({
      requests: 200,
      errors: 4,
      p99Ms: 250,
    });
  });

  it("when every metric has a query, then /metrics is not used", () => {
    const slo = { url, p99LatencyQuery: "a", errorRateQuery: "b", requestsQuery: "c" };
    expect(windowFromPrometheus(slo, { requests: 1000, errorRate: 0.02, p99Seconds: 0.1 }, fallback)).toEqual(
      {
        requests: 1000,
        errors: 20,
        p99Ms: 100,
      },
    );
  });

  it("when the queries returned no data, then no requests, no errors and no p99 (never a blind pass)", () => {
    const slo = { url, p99LatencyQuery: "a", errorRateQuery: "b", requestsQuery: "c" };
    expect(windowFromPrometheus(slo, {}, fallback)).toEqual({ requests: 0, errors: 0 });
  });

  it("when only requests has a query, then /metrics' error ratio is applied to them", () => {
    expect(windowFromPrometheus({ url, requestsQuery: "c" }, { requests: 1000 }, fallback)).toEqual({
      requests: 1000,
      errors: 20,
      p99Ms: 80,
    });
  });
});
