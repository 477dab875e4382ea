import { describe, expect, it } from "vitest";
import { createEncoderMetrics } from "../../../src/encoder/metrics.js";
import { stableP99Ms } from "../../../src/generation/stable-latency.js";
import { parsePrometheusText } from "../../../src/rollout/prometheus-text.js";
import { createRouterMetrics } from "../../../src/router/metrics.js";

describe("stableP99Ms", () => {
  it("when the endpoint is the stable encoder's, then its embedding requests give the p99", async () => {
    const m = createEncoderMetrics({ revision: "stable1" });
    const before = parsePrometheusText(await m.registry.metrics());
    for (let i = 0; i < 100; i++) m.requestDuration.observe({ route: "/v1/embeddings", status: "200" }, 0.4);
    m.requestDuration.observe({ route: "/healthz", status: "200" }, 9);
    const after = parsePrometheusText(await m.registry.metrics());
    const p99 = stableP99Ms(before, after, undefined) as number;
    expect(p99).toBeGreaterThan(250);
    expect(p99).toBeLessThanOrEqual(500);
    expect(stableP99Ms(after, after, undefined)).toBeUndefined();
  });

  it("when the endpoint is a router's, then only the named revision's encoder calls count", async () => {
    const m = createRouterMetrics();
    const before = parsePrometheusText(await m.registry.metrics());
    for (let i = 0; i < 100; i++) {
      m.encoderDuration.observe({ revision: "stable1", kind: "document", outcome: "ok" }, 0.01);
      m.encoderDuration.observe({ revision: "cand", kind: "document", outcome: "ok" }, 2);
    }
    const after = parsePrometheusText(await m.registry.metrics());
    expect(stableP99Ms(before, after, "stable1") as number).toBeLessThan(50);
    expect(stableP99Ms(before, after, "cand") as number).toBeGreaterThan(500);
  });
});
