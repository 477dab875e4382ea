// The operator's default GenerationProbe against real HTTP servers standing where router pods and
// N+1's first shard would answer: /readyz naming the candidate, the backfill record under
// /v1/meta/backfill, and the routers' /metrics for the query canary's verdict.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpGenerationProbe } from "../../../controllers/vector-index/generation-probe.js";
import type { BackfillRecord } from "../../../src/generation/progress.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server answering `routes[path]` (status, JSON or text body); anything else 404. */
async function serve(routes: Record<string, () => { status: number; body: unknown }>): Promise<string> {
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ""];
    const { status, body } = route ? route() : { status: 404, body: { error: "not found" } };
    res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const target = { namespace: "ns", index: "docs", generation: "g-bbbbbbbbbbbb" };
const record: BackfillRecord = {
  from: "g-aaaaaaaaaaaa",
  to: "g-bbbbbbbbbbbb",
  cursor: { "shard-0": 41 },
  done: 41,
  skippedExisting: 0,
  withoutText: 0,
  total: 100,
  ratePerSecond: 2,
  etaSeconds: 30,
  startedAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:30Z",
  finished: false,
};

/** The router's request histogram: `n` queries of one generation, all under 10 ms. */
function routerMetrics(counts: Record<string, number>): string {
  const name = "embedops_router_request_duration_seconds";
  const lines = [`# TYPE ${name} histogram`];
  for (const [fp, n] of Object.entries(counts)) {
    const l = `route="/v1/query",status="200",fingerprint="${fp}"`;
    lines.push(`${name}_bucket{${l},le="0.01"} ${n}`, `${name}_bucket{${l},le="+Inf"} ${n}`);
    lines.push(`${name}_sum{${l}} ${n * 0.005}`, `${name}_count{${l}} ${n}`);
  }
  return `${lines.join("\n")}\n`;
}

describe("httpGenerationProbe", () => {
  it("when every router's /readyz names N+1 as its candidate, then it dual-writes; one that does not (or none at all) says no", async () => {
    const on = () => ({
      status: 200,
      body: { ready: true, generation: "g-a", candidate: { generation: target.generation } },
    });
    const off = () => ({ status: 200, body: { ready: true, generation: "g-a" } });
    const probe = httpGenerationProbe();
    const a = await serve({ "/readyz": on });
    const b = await serve({ "/readyz": on });
    const stale = await serve({ "/readyz": off });
    expect(await probe.dualWriting({ ...target, routers: [a, b] })).toBe(true);
    expect(await probe.dualWriting({ ...target, routers: [a, stale] })).toBe(false);
    expect(await probe.dualWriting({ ...target, routers: [] })).toBe(false);
  });

  it("when N+1's first shard holds the record, then it is read (from the next replica if one fails); none yet: undefined", async () => {
    const probe = httpGenerationProbe();
    const down = await serve({ "/v1/meta/backfill": () => ({ status: 503, body: { error: "loading" } }) });
    const up = await serve({
      "/v1/meta/backfill": () => ({ status: 200, body: { key: "backfill", value: record } }),
    });
    expect(await probe.backfill({ ...target, shard0: [down, up] })).toEqual(record);
    const empty = await serve({});
    expect(await probe.backfill({ ...target, shard0: [empty] })).toBeUndefined();
    // A record of another move (an earlier candidate) is not this one's progress.
    expect(await probe.backfill({ ...target, generation: "g-cccccccccccc", shard0: [up] })).toBeUndefined();
  });

  it("when the routers' query histograms move between two checks, then the verdict judges N+1's window against the SLO", async () => {
    let n1 = 0;
    const router = await serve({
      "/metrics": () => ({ status: 200, body: routerMetrics({ old: 100, new: n1 }) }),
    });
    const probe = httpGenerationProbe();
    const canary = {
      ...target,
      routers: [router],
      activeFingerprint: "old",
      candidateFingerprint: "new",
      slo: { maxP99LatencyMs: 500, maxErrorRate: 0.01, minRequests: 20 },
      weight: 50,
    };
    // The first call only takes the baseline.
    expect(await probe.verdict(canary)).toBeUndefined();
    n1 = 5;
    expect((await probe.verdict(canary))?.result).toBe("Inconclusive");
    n1 = 105;
    expect((await probe.verdict(canary))?.result).toBe("Pass");
  });

  it("when the gate cannot reach N+1's encoder, then it first runs in the background, then fails naming why", async () => {
    const probe = httpGenerationProbe();
    const nowhere = await serve({});
    const gen = (name: string) => ({
      name,
      fingerprint: name,
      encoderUrl: nowhere,
      shards: [{ name: "shard-0", replicas: [nowhere] }],
    });
    const gate = {
      ...target,
      golden: [{ query: "what is a vector index", relevant: [] }],
      k: 10,
      minRecall: 0.9,
      current: gen("g-aaaaaaaaaaaa"),
      candidate: gen(target.generation),
    };
    expect(await probe.gate(gate)).toBeUndefined();
    let result: Awaited<ReturnType<typeof probe.gate>>;
    for (let i = 0; i < 50 && result === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
      result = await probe.gate(gate);
    }
    expect(result?.pass).toBe(false);
    expect(result?.message).toMatch(/^the recall gate could not measure: /);
    // A retried move gets a fresh run.
    probe.forget(gate);
    expect(await probe.gate(gate)).toBeUndefined();
  });
});
