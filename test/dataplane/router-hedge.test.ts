// Hedging against a replica that stalls now and then. The stall is made by a tiny HTTP proxy in
// front of a real shard replica (a fault the real shard cannot be asked to produce); the shards,
// the router and the HTTP between them are real.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../src/router/config.js";
import { type RunningRouter, startRouter } from "../../src/router/start-router.js";
import { createLogger } from "../../src/util/log.js";
import { call, type Role, startShard } from "./router-harness.js";

const DIM = 16;
const FP = "hedge-test-fingerprint";

/** Forwards to `target`; after `warmup` queries, holds every `every`-th query until the client gives up. */
async function stallingProxy(
  target: string,
  warmup: number,
  every: number,
): Promise<{ url: string; server: Server; stalled: () => number }> {
  let queries = 0;
  let stalled = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith("/v1/query")) {
      queries++;
      if (queries > warmup && queries % every === 0) {
        stalled++;
        req.resume();
        return; // never answered; the router's abort closes the socket
      }
    }
    const up = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stalled: () => stalled,
  };
}

/** A deterministic pseudo-random vector per seed (mulberry32), so ids are unambiguous nearest neighbours. */
function vector(seed: number): number[] {
  let a = (seed + 1) * 0x9e3779b9;
  return Array.from({ length: DIM }, () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  });
}

describe("hedged shard queries", () => {
  let dir: string;
  let shards: Role[];
  let proxy: Awaited<ReturnType<typeof stallingProxy>>;
  const routers: RunningRouter[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-hedge-"));
    shards = await Promise.all([0, 1].map((r) => startShard(join(dir, `r${r}`), FP, DIM, `s0-r${r}`)));
    const points = Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, vector: vector(i) }));
    for (const s of shards) {
      const res = await fetch(`${s.url}/v1/points`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-embedops-model-fingerprint": FP },
        body: JSON.stringify({ points }),
      });
      expect(res.status).toBe(200);
    }
  });

  afterAll(async () => {
    for (const r of routers) await r.close();
    proxy?.server.close();
    await Promise.all(shards.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function routerWith(hedge: boolean, timeoutMs: number): Promise<RunningRouter> {
    proxy = await stallingProxy(shards[1]!.url, 10, 3);
    const config = parseRouterConfig({
      index: "hedge",
      generation: "g1",
      fingerprint: FP,
      dimension: DIM,
      metric: "cosine",
      encoder: null,
      shards: [{ name: "s0", replicas: [shards[0]!.url, proxy.url] }],
      timeoutMs,
      hedge: { enabled: hedge, minDelayMs: 1, minSamples: 5 },
      checkIntervalMs: 200,
    });
    const r = await startRouter({ config, log: createLogger({ role: "router", test: "hedge" }) });
    routers.push(r);
    return r;
  }

  it("when a replica stalls every third query and hedging is on, then every query is answered with the right top hit and hedges are counted", async () => {
    const router = await routerWith(true, 1500);
    for (let i = 0; i < 40; i++) {
      const a = await call(`${router.url}/v1/query`, "POST", { vector: vector(i), k: 3 });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect((a.body.results as { id: string }[])[0]!.id).toBe(`p${i}`);
    }
    expect(proxy.stalled()).toBeGreaterThan(0);
    const metrics = await (await fetch(`${router.url}/metrics`)).text();
    expect(metrics).toMatch(/embedops_router_hedges_total\{shard="s0"\} [1-9]/);
    proxy.server.close();
    proxy.server.closeAllConnections();
  });

  it("when the same replica stalls and hedging is off, then stalled queries fail with 503 naming the shard", async () => {
    const router = await routerWith(false, 300);
    const statuses: number[] = [];
    const messages: string[] = [];
    for (let i = 0; i < 40; i++) {
      const a = await call(`${router.url}/v1/query`, "POST", { vector: vector(i), k: 3 });
      statuses.push(a.status);
      if (a.status !== 200) messages.push((a.body.error as { message: string }).message);
    }
    expect(proxy.stalled()).toBeGreaterThan(0);
    expect(statuses).toContain(503);
    expect(messages[0]).toContain("shard s0");
  });
});
