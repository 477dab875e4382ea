import { describe, expect, it } from "vitest";
import { createEncoderMetrics } from "../../../src/encoder/metrics.js";
import {
  ENCODER_REQUESTS,
  encoderRequests,
  requestWindow,
  routerEncoderCalls,
  routerQueries,
  withLabels,
} from "../../../src/rollout/metrics-window.js";
import { parsePrometheusText, type Sample } from "../../../src/rollout/prometheus-text.js";
import { createRouterMetrics } from "../../../src/router/metrics.js";

/** A real encoder registry (src/encoder/metrics.ts), scraped as the shell would. */
function encoder(revision?: string) {
  const m = createEncoderMetrics(revision ? { revision } : {});
  return {
    observe: (route: string, status: number, seconds: number, times = 1) => {
      for (let i = 0; i < times; i++) m.requestDuration.observe({ route, status: String(status) }, seconds);
    },
    scrape: async (): Promise<Sample[]> => parsePrometheusText(await m.registry.metrics()),
  };
}

describe("requestWindow over a real encoder's /metrics", () => {
  it("when requests were served between two scrapes, then only those count, with errors and p99", async () => {
    const e = encoder();
    e.observe("/v1/embeddings", 200, 0.003, 50); // before the window: not counted
    const before = await e.scrape();
    e.observe("/v1/embeddings", 200, 0.003, 90);
    e.observe("/embed", 200, 0.1, 5);
    e.observe("/v1/embeddings", 500, 0.001, 3);
    e.observe("/v1/embeddings", 429, 0.0005, 2);
    e.observe("/v1/embeddings", 400, 0.0005, 4); // the client's fault: served, not an error
    e.observe("/healthz", 200, 0.0001, 100); // probes are not traffic
    e.observe("/info", 200, 0.0001, 10);
    const window = requestWindow(before, await e.scrape());
    expect(window.requests).toBe(104);
    expect(window.errors).toBe(5);
    // 104 × 0.99 = 102.96th observation: among the five 0.1 s ones, in the bucket that ends at 100 ms.
    expect(window.p99Ms).toBeGreaterThan(50);
    expect(window.p99Ms).toBeLessThanOrEqual(100);
  });

  it("when nothing was served, then the window is empty and has no p99", async () => {
    const e = encoder();
    e.observe("/v1/embeddings", 200, 0.01, 10);
    const scrape = await e.scrape();
    expect(requestWindow(scrape, scrape)).toEqual({ requests: 0, errors: 0 });
  });

  it("when a pod restarted between the scrapes, then its new counts are taken whole", async () => {
    const old = encoder();
    old.observe("/v1/embeddings", 200, 0.01, 500);
    const before = withLabels(await old.scrape(), { pod: "a" });
    const restarted = encoder();
    restarted.observe("/v1/embeddings", 200, 0.01, 30);
    const window = requestWindow(before, withLabels(await restarted.scrape(), { pod: "a" }));
    expect(window.requests).toBe(30);
  });

  it("when two pods are tagged and concatenated, then their windows add up", async () => {
    const a = encoder();
    const b = encoder();
    const before = [
      ...withLabels(await a.scrape(), { pod: "a" }),
      ...withLabels(await b.scrape(), { pod: "b" }),
    ];
    a.observe("/v1/embeddings", 200, 0.01, 20);
    b.observe("/v1/embeddings", 503, 0.01, 5);
    const after = [
      ...withLabels(await a.scrape(), { pod: "a" }),
      ...withLabels(await b.scrape(), { pod: "b" }),
    ];
    expect(requestWindow(before, after, ENCODER_REQUESTS)).toMatchObject({ requests: 25, errors: 5 });
  });

  it("when there is no earlier scrape, then everything so far counts", async () => {
    const e = encoder();
    e.observe("/v1/embeddings", 200, 0.01, 7);
    expect(requestWindow(undefined, await e.scrape()).requests).toBe(7);
  });
});

describe("requestWindow by revision", () => {
  it("when stable and candidate pods are scraped together, then each revision's window is its own", async () => {
    const stable = encoder("0badc0ffee");
    const candidate = encoder("5f3a9c0d12");
    stable.observe("/v1/embeddings", 200, 0.01, 90);
    candidate.observe("/v1/embeddings", 500, 0.01, 10);
    const all = [
      ...withLabels(await stable.scrape(), { pod: "s" }),
      ...withLabels(await candidate.scrape(), { pod: "c" }),
    ];
    expect(requestWindow(undefined, all, encoderRequests("5f3a9c0d12"))).toMatchObject({
      requests: 10,
      errors: 10,
    });
    expect(requestWindow(undefined, all, encoderRequests("0badc0ffee"))).toMatchObject({
      requests: 90,
      errors: 0,
    });
  });

  it("when the router's calls to a revision are read, then refused calls count as errors and client errors do not", async () => {
    const m = createRouterMetrics();
    const before = parsePrometheusText(await m.registry.metrics());
    const call = (revision: string, outcome: string, seconds?: number) => {
      m.encoderCalls.inc({ revision, kind: "query", outcome });
      if (seconds !== undefined) m.encoderDuration.observe({ revision, kind: "query", outcome }, seconds);
    };
    for (let i = 0; i < 30; i++) call("cand", "ok", 0.02);
    call("cand", "timeout", 2);
    call("cand", "client_error", 0.001);
    call("cand", "mismatch"); // not sent: only in the counter
    for (let i = 0; i < 50; i++) call("stable", "ok", 0.01);
    const window = requestWindow(
      before,
      parsePrometheusText(await m.registry.metrics()),
      routerEncoderCalls("cand"),
    );
    expect(window).toMatchObject({ requests: 33, errors: 2 });
    expect(window.p99Ms).toBeGreaterThan(100);
  });
});

describe("requestWindow over a real router's /metrics", () => {
  it("when queries went to two generations, then only the named fingerprint's count", async () => {
    const m = createRouterMetrics();
    const before = parsePrometheusText(await m.registry.metrics());
    for (let i = 0; i < 8; i++)
      m.requestDuration.observe({ route: "/v1/query", status: "200", fingerprint: "new" }, 0.02);
    for (let i = 0; i < 9; i++)
      m.requestDuration.observe({ route: "/v1/query", status: "200", fingerprint: "old" }, 0.02);
    m.requestDuration.observe({ route: "/v1/documents", status: "200", fingerprint: "new" }, 0.02);
    const window = requestWindow(
      before,
      parsePrometheusText(await m.registry.metrics()),
      routerQueries("new"),
    );
    expect(window).toMatchObject({ requests: 8, errors: 0 });
  });
});
