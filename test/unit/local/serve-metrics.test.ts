import { afterEach, describe, expect, it } from "vitest";
import { createServeMetrics, startServeMetrics } from "../../../src/local/serve-metrics.js";

describe("serve's /metrics", () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it("when a rollout ended, then GET /metrics counts it by model, result and reason", async () => {
    const metrics = createServeMetrics();
    const { server, url } = await startServeMetrics(metrics);
    close = () => server.close();
    metrics.rolloutsTotal.inc({ model: "minilm", result: "Failed", reason: "RolloutFailed" });
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(
      'embedops_serve_rollouts_total{model="minilm",result="Failed",reason="RolloutFailed"} 1',
    );
  });

  it("when replicas are being seeded, then GET /metrics shows how many per index", async () => {
    const metrics = createServeMetrics();
    const { server, url } = await startServeMetrics(metrics);
    close = () => server.close();
    metrics.replicasSeeding.set({ index: "docs" }, 2);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(
      'embedops_serve_replicas_seeding{index="docs"} 2',
    );
  });

  it("when another path is asked, then it answers 404 saying what it serves", async () => {
    const { server, url } = await startServeMetrics(createServeMetrics());
    close = () => server.close();
    const res = await fetch(`${url}/other`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/GET \/metrics only/);
  });
});
