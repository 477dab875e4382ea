import { describe, expect, it } from "vitest";
import {
  CanaryStatus,
  EmbeddingModel,
  formatResourceError,
  parseResource,
} from "../../../src/api/v1alpha1/index.js";
import { model } from "../api/fixtures.js";

const errorsOf = (obj: unknown): string => {
  const r = parseResource(obj);
  return r.ok ? "" : r.errors.map(formatResourceError).join("\n");
};

describe("rollout policy schema", () => {
  it("when the new fields are omitted, then maxInconclusiveChecks is 3 and 30 probes are sent per check", () => {
    const rollout = EmbeddingModel.parse(model()).spec.rollout;
    expect(rollout.maxInconclusiveChecks).toBe(3);
    expect(rollout.probe).toEqual({ requests: 30 });
    expect(rollout.slo.maxLatencyIncreasePercent).toBeUndefined();
    expect(rollout.slo.prometheus).toBeUndefined();
  });

  it("when every new field is set, then it parses as written", () => {
    const slo = {
      maxLatencyIncreasePercent: 20,
      prometheus: {
        url: "http://prometheus.monitoring:9090",
        p99LatencyQuery:
          'histogram_quantile(0.99, sum by (le) (rate(embedops_encoder_request_duration_seconds_bucket{revision="$revision"}[$interval])))',
      },
    };
    const probe = { requests: 10, texts: ["hello", "world"] };
    const rollout = EmbeddingModel.parse(model({ rollout: { maxInconclusiveChecks: 5, slo, probe } })).spec
      .rollout;
    expect(rollout.slo).toMatchObject(slo);
    expect(rollout.probe).toEqual(probe);
    expect(rollout.maxInconclusiveChecks).toBe(5);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      "prometheus has no query",
      { slo: { prometheus: { url: "http://p:9090" } } },
      "spec.rollout.slo.prometheus: slo.prometheus needs at least one of",
    ],
    [
      "the prometheus URL is not one",
      { slo: { prometheus: { url: "prometheus:9090", errorRateQuery: "x" } } },
      "spec.rollout.slo.prometheus.url: must be an http:// or https:// URL",
    ],
    [
      "the latency increase is 0",
      { slo: { maxLatencyIncreasePercent: 0 } },
      "spec.rollout.slo.maxLatencyIncreasePercent",
    ],
    ["maxInconclusiveChecks is 0", { maxInconclusiveChecks: 0 }, "spec.rollout.maxInconclusiveChecks"],
    ["the probe texts are empty", { probe: { texts: [] } }, "spec.rollout.probe.texts"],
    ["probe requests are negative", { probe: { requests: -1 } }, "spec.rollout.probe.requests"],
  ])("when %s, then the error names the field", (_when, rollout, expected) => {
    expect(errorsOf(model({ rollout }))).toContain(expected);
  });
});

describe("status.canary schema", () => {
  const canary = {
    phase: "Progressing",
    reason: "Analyzing",
    revision: "5f3a9c0d12",
    stableRevision: "0badc0ffee",
    fingerprint: "ab".repeat(32),
    weight: 10,
    stepIndex: 0,
    failedChecks: 0,
    inconclusiveChecks: 1,
    probing: true,
    startedAt: "2026-01-02T03:04:05Z",
    lastCheckTime: "2026-01-02T03:05:05Z",
    lastVerdict: {
      result: "Inconclusive",
      message: "only 3 of the 20 requests needed reached the candidate",
    },
    lastCommand: "retry:5f3a9c0d12",
  };

  it("when a mid-rollout status is parsed, then every field survives", () => {
    expect(CanaryStatus.parse(canary)).toEqual(canary);
  });

  it("when the phase is Initializing, then no fingerprint is needed", () => {
    const { fingerprint: _f, ...initializing } = canary;
    expect(CanaryStatus.safeParse({ ...initializing, phase: "Initializing" }).success).toBe(true);
  });

  it("when the candidate revision is missing, then the status is refused", () => {
    const { revision: _r, ...rest } = canary;
    expect(CanaryStatus.safeParse(rest).success).toBe(false);
  });
});
