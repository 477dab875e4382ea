// API keys on the data routes, and the probes left open for kubelet and Prometheus.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../src/router/config.js";
import { type RunningRouter, startRouter } from "../../src/router/start-router.js";
import { createLogger } from "../../src/util/log.js";

describe("router API keys", () => {
  let router: RunningRouter;
  const key = "k-0123456789abcdef";

  beforeAll(async () => {
    const config = parseRouterConfig({
      index: "auth",
      generation: "g1",
      fingerprint: "auth-test",
      dimension: 4,
      metric: "cosine",
      encoder: null,
      // Nothing listens on port 1: the shard is simply down, which is enough to reach the handlers.
      shards: [{ name: "s0", replicas: ["http://127.0.0.1:1"] }],
      apiKeys: [key],
    });
    router = await startRouter({ config, log: createLogger({ role: "router", test: "auth" }) });
  });
  afterAll(() => router.close());

  it("when no key is sent, then a data route answers 401 saying how to authenticate", async () => {
    const res = await fetch(`${router.url}/v1/stats`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      "Authorization: Bearer",
    );
  });

  it("when a wrong key is sent, then the answer is 401", async () => {
    const res = await fetch(`${router.url}/v1/stats`, { headers: { authorization: "Bearer wrong-key-123" } });
    expect(res.status).toBe(401);
  });

  it("when the right key is sent, then the route runs (the down shard is reported, not an auth error)", async () => {
    const res = await fetch(`${router.url}/v1/stats`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { shards: { replicas: { live: boolean; error?: string }[] }[] };
    expect(body.shards[0]!.replicas[0]!.live).toBe(false);
  });

  it("when probes and metrics are asked without a key, then they answer (readyz 503: the shard is down)", async () => {
    expect((await fetch(`${router.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${router.url}/metrics`)).status).toBe(200);
    const ready = await fetch(`${router.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons: string[] }).reasons).toContain("shard s0 has no live replica");
  });

  it("when a text query reaches an index without an encoder, then it is a 400 naming text", async () => {
    const res = await fetch(`${router.url}/v1/query`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe("text");
  });
});
