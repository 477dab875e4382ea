import { describe, expect, it } from "vitest";
import { parsePrometheusText, seriesKey } from "../../../src/rollout/prometheus-text.js";

// As prom-client 15 writes it (HELP and TYPE lines, label order as declared, le first on buckets).
const SAMPLE = `# HELP embedops_encoder_request_duration_seconds HTTP request duration by route and status code
# TYPE embedops_encoder_request_duration_seconds histogram
embedops_encoder_request_duration_seconds_bucket{le="0.001",route="/v1/embeddings",status="200"} 0
embedops_encoder_request_duration_seconds_bucket{le="0.002",route="/v1/embeddings",status="200"} 3
embedops_encoder_request_duration_seconds_bucket{le="+Inf",route="/v1/embeddings",status="200"} 7
embedops_encoder_request_duration_seconds_sum{route="/v1/embeddings",status="200"} 0.0123
embedops_encoder_request_duration_seconds_count{route="/v1/embeddings",status="200"} 7

# HELP embedops_encoder_embeddings_total Embeddings computed
# TYPE embedops_encoder_embeddings_total counter
embedops_encoder_embeddings_total 42
embedops_encoder_queue_depth 0 1700000000000
odd{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",} NaN
neg -Inf
lag{revision="unknown"} Nan
`;

describe("parsePrometheusText", () => {
  const samples = parsePrometheusText(SAMPLE);

  it("when a body is parsed, then comments and blank lines are skipped and every sample is read", () => {
    expect(samples.map((s) => s.name)).toEqual([
      "embedops_encoder_request_duration_seconds_bucket",
      "embedops_encoder_request_duration_seconds_bucket",
      "embedops_encoder_request_duration_seconds_bucket",
      "embedops_encoder_request_duration_seconds_sum",
      "embedops_encoder_request_duration_seconds_count",
      "embedops_encoder_embeddings_total",
      "embedops_encoder_queue_depth",
      "odd",
      "neg",
      "lag",
    ]);
  });

  it("when a sample has labels, then they are read with their values", () => {
    expect(samples[2]).toEqual({
      name: "embedops_encoder_request_duration_seconds_bucket",
      labels: { le: "+Inf", route: "/v1/embeddings", status: "200" },
      value: 7,
    });
    expect(samples[3]?.value).toBe(0.0123);
  });

  it("when a label value has escapes or a trailing comma, then they are undone", () => {
    expect(samples[7]?.labels).toEqual({ path: "C:\\dir", quote: 'say "hi"', nl: "a\nb" });
    expect(samples[7]?.value).toBeNaN();
  });

  it("when a sample has a timestamp or no labels, then the value is still read", () => {
    expect(samples[6]).toEqual({ name: "embedops_encoder_queue_depth", labels: {}, value: 0 });
    expect(samples[8]?.value).toBe(Number.NEGATIVE_INFINITY);
  });

  it("when prom-client writes NaN as Nan, then it is read case-insensitively as Prometheus does", () => {
    expect(samples[9]?.value).toBeNaN();
  });

  it.each([
    ["a value that is no number", "x_total abc", /line 1: "abc" is not a sample value/],
    ["an unterminated label value", 'x{a="b} 1', /line 1: unterminated value of label a/],
    ["a label without a quoted value", "x{a=b} 1", /expected a quoted value for label a/],
    ["an HTML page", "<html>", /line 1: expected a metric name/],
  ])("when %s, then it throws naming the line", (_when, text, error) => {
    expect(() => parsePrometheusText(text)).toThrow(error);
  });
});

describe("seriesKey", () => {
  it("when two samples differ only in le, then without le they are one series", () => {
    const [a, b] = parsePrometheusText(SAMPLE);
    expect(a && seriesKey(a, ["le"])).toBe(b && seriesKey(b, ["le"]));
    expect(a && seriesKey(a)).not.toBe(b && seriesKey(b));
  });
});
