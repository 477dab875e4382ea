// Two revisions of one encoder behind one router: the real model in two real encoder processes
// (stable r1, candidate r2), a real shard, the router at weight 10, and a real Toxiproxy between the
// router and the candidate. Checks the split's exactness, the per-revision metrics on both sides,
// and what a slow or resetting candidate does to them and to clients. Tests run in order.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { candidateCalls } from "../../src/router/revision-split.js";
import { loadWordnetSentences } from "../fixtures/corpus/wordnet.js";
import {
  call,
  eventually,
  haveModel,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";
import { startToxiproxy, type Toxiproxy } from "./toxiproxy.js";

const WEIGHT = 10;
const STABLE = "r1";
const CANDIDATE = "r2";
const SENTENCES = loadWordnetSentences(200);
const DOCS = SENTENCES.slice(0, 60).map((s) => ({ id: s.id, text: s.text }));
const QUERIES = SENTENCES.slice(60).map((s) => s.text);

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Series[] {
  const out: Series[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(url: string): Promise<Series[]> {
  return parseMetrics(await (await fetch(`${url}/metrics`)).text());
}

/** Sum of the series named `name` whose labels include `match`. */
function sum(series: Series[], name: string, match: Record<string, string> = {}): number {
  return series
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** What histogram_quantile(q, increase(…[window])) gives for the calls between two scrapes. */
function quantileBetween(
  before: Series[],
  after: Series[],
  name: string,
  match: Record<string, string>,
  q: number,
) {
  const bucket = `${name}_bucket`;
  const les = [...new Set(after.filter((s) => s.name === bucket).map((s) => s.labels.le!))]
    .map((le) => (le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le)))
    .sort((a, b) => a - b);
  const count = (le: number) => {
    const label = le === Number.POSITIVE_INFINITY ? "+Inf" : String(le);
    return sum(after, bucket, { ...match, le: label }) - sum(before, bucket, { ...match, le: label });
  };
  const total = count(Number.POSITIVE_INFINITY);
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of les) {
    const c = count(le);
    if (c >= rank) {
      if (le === Number.POSITIVE_INFINITY) return lower;
      return lower + ((le - lower) * (rank - below)) / (c - below);
    }
    lower = le;
    below = c;
  }
  return lower;
}

const CALLS = "embedops_router_encoder_calls_total";
const DURATION = "embedops_router_encoder_request_duration_seconds";

describe("router split between two encoder revisions, with a fault injector in front of the candidate", () => {
  let dir: string;
  let stable: Role;
  let candidate: Role;
  let shard: Role;
  let router: Role;
  let toxiproxy: Toxiproxy;

  /** Sends n text queries, `concurrency` at a time; returns the statuses. */
  const queries = async (n: number, concurrency = 8): Promise<number[]> => {
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const a = await call(`${router.url}/v1/query`, "POST", { text: QUERIES[i % QUERIES.length], k: 3 });
        statuses.push(a.status);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return statuses;
  };

  const outcomes = (s: Series[], revision: string) => {
    const all = sum(s, CALLS, { revision });
    const ok = sum(s, CALLS, { revision, outcome: "ok" });
    return { all, ok, failed: all - ok };
  };

  beforeAll(async () => {
    if (!haveModel())
      throw new Error('no model in models/all-minilm-l6-v2: run "npm run setup:models" first');
    dir = mkdtempSync(join(tmpdir(), "embedops-split-"));
    toxiproxy = await startToxiproxy();
    [stable, candidate] = await Promise.all([
      startEncoder(["--revision", STABLE, "--threads", "1"], "encoder-r1"),
      startEncoder(["--revision", CANDIDATE, "--threads", "1"], "encoder-r2"),
    ]);
    await Promise.all([waitReady(stable.url), waitReady(candidate.url)]);
    const fingerprint = ((await (await fetch(`${stable.url}/info`)).json()) as { fingerprint: string })
      .fingerprint;
    const candidateProxy = await toxiproxy.proxy("candidate", new URL(candidate.url).host);
    shard = await startShard(join(dir, "s0"), fingerprint, 384, "s0");
    const configPath = join(dir, "router.json");
    writeConfig(configPath, {
      index: "split",
      generation: "g1",
      fingerprint,
      dimension: 384,
      metric: "cosine",
      encoder: {
        url: stable.url,
        revision: STABLE,
        canary: { url: candidateProxy, revision: CANDIDATE, weight: WEIGHT },
      },
      shards: [{ name: "s0", replicas: [shard.url] }],
      timeoutMs: 3000,
      // The candidate's /info is re-read this often. Until the next check after the reset toxic
      // arrives, candidate picks are real calls that get reset (outcome "error"); after it, they are
      // not sent ("unavailable"). Both count against the candidate; how many of each is timing.
      checkIntervalMs: 1000,
    });
    router = await startRouterProcess(configPath);
    await waitReady(router.url);
    const ingest = await call(`${router.url}/v1/documents`, "POST", { documents: DOCS });
    expect(ingest.status, JSON.stringify(ingest.body)).toBe(200);
  });

  afterAll(async () => {
    await Promise.all([router, stable, candidate, shard].filter(Boolean).map((r) => r.stop()));
    await toxiproxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("when 1,000 queries are sent at weight 10, then the candidate embeds 10 % of them (±5 % of 1,000) and both sides count them by revision", async () => {
    // The rule itself is exact: 100 of the first 1,000 calls.
    expect(candidateCalls(1000, WEIGHT)).toBe(100);
    const [r0, s0, c0] = await Promise.all([scrape(router.url), scrape(stable.url), scrape(candidate.url)]);
    const statuses = await queries(1000);
    const [r1, s1, c1] = await Promise.all([scrape(router.url), scrape(stable.url), scrape(candidate.url)]);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const cand = outcomes(r1, CANDIDATE).ok - outcomes(r0, CANDIDATE).ok;
    const stab = outcomes(r1, STABLE).ok - outcomes(r0, STABLE).ok;
    console.log(`split over 1,000 queries: candidate ${cand}, stable ${stab}`);
    expect(cand).toBeGreaterThanOrEqual(50);
    expect(cand).toBeLessThanOrEqual(150);
    expect(cand + stab).toBe(1000);
    expect(outcomes(r1, CANDIDATE).failed - outcomes(r0, CANDIDATE).failed).toBe(0);

    // Each encoder's own request counter carries its --revision and saw exactly the router's calls.
    const served = (s: Series[], revision: string) =>
      sum(s, "embedops_encoder_request_duration_seconds_count", {
        route: "/v1/embeddings",
        status: "200",
        revision,
      });
    expect(served(c1, CANDIDATE) - served(c0, CANDIDATE)).toBe(cand);
    expect(served(s1, STABLE) - served(s0, STABLE)).toBe(stab);
    expect(served(c1, STABLE)).toBe(0);
  });

  it("when the candidate gets +300 ms of latency, then its p99 in the router's histogram is ≥ 300 ms and stable's calls are not delayed", async () => {
    await toxiproxy.addToxic("candidate", { name: "slow", type: "latency", attributes: { latency: 300 } });
    try {
      const before = await scrape(router.url);
      // Two at a time: the shared CI machine's queueing stays out of stable's numbers as far as it can.
      const statuses = await queries(300, 2);
      const after = await scrape(router.url);
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      const q = (revision: string, quantile: number) =>
        quantileBetween(before, after, DURATION, { kind: "query", revision }, quantile);
      const under300 = (revision: string) =>
        sum(after, `${DURATION}_bucket`, { kind: "query", revision, le: "0.3" }) -
        sum(before, `${DURATION}_bucket`, { kind: "query", revision, le: "0.3" });
      const calls = (revision: string) => outcomes(after, revision).ok - outcomes(before, revision).ok;
      const ms = (x: number) => `${(x * 1000).toFixed(1)} ms`;
      console.log(
        `+300 ms on the candidate: candidate p50 ${ms(q(CANDIDATE, 0.5))} p99 ${ms(q(CANDIDATE, 0.99))} over ${calls(CANDIDATE)} calls ` +
          `(${under300(CANDIDATE)} under 300 ms); stable p50 ${ms(q(STABLE, 0.5))} p99 ${ms(q(STABLE, 0.99))} over ` +
          `${calls(STABLE)} calls (${under300(STABLE)} under 300 ms)`,
      );
      expect(calls(CANDIDATE)).toBe(candidateCalls(300, WEIGHT));
      // The fault's own property: every candidate call waited the injected 300 ms.
      expect(under300(CANDIDATE)).toBe(0);
      expect(q(CANDIDATE, 0.99)).toBeGreaterThanOrEqual(0.3);
      // Stable is not behind the toxic. Its p99 is not asserted: on a shared 2-core machine queueing
      // alone can push a tail past 300 ms (measured: 689 ms while a CI run held both cores); most of
      // its calls finishing under the toxic's 300 ms is the load-independent difference.
      expect(under300(STABLE)).toBeGreaterThan(calls(STABLE) / 2);
    } finally {
      await toxiproxy.removeToxic("candidate", "slow");
    }
  });

  it("when the candidate's connections are reset, then its errors are counted against it, clients fail at most its share, and stable is untouched", async () => {
    await toxiproxy.addToxic("candidate", { name: "reset", type: "reset_peer", attributes: { timeout: 0 } });
    try {
      const [before, stableBefore] = await Promise.all([scrape(router.url), scrape(stable.url)]);
      const n = 300;
      const statuses = await queries(n);
      const [after, stableAfter] = await Promise.all([scrape(router.url), scrape(stable.url)]);
      const clientFailures = statuses.filter((s) => s !== 200).length;
      const candFailed = outcomes(after, CANDIDATE).failed - outcomes(before, CANDIDATE).failed;
      const candOk = outcomes(after, CANDIDATE).ok - outcomes(before, CANDIDATE).ok;
      const byOutcome = after
        .filter((s) => s.name === CALLS && s.labels.revision === CANDIDATE && s.labels.outcome !== "ok")
        .map((s) => `${s.labels.outcome}=${s.value - sum(before, CALLS, s.labels)}`);
      console.log(
        `reset_peer on the candidate: ${candFailed} candidate failures (${byOutcome.join(", ")}), ` +
          `${clientFailures} of ${n} client requests failed`,
      );
      expect(candOk).toBe(0);
      expect(candFailed).toBe(candidateCalls(n, WEIGHT));
      // The bound is the candidate's share; retrying on stable makes it zero.
      expect(clientFailures).toBeLessThanOrEqual(candidateCalls(n, WEIGHT));
      expect(clientFailures).toBe(0);
      // Stable: no failed call, and its encoder answered every request it got with 200.
      expect(outcomes(after, STABLE).failed - outcomes(before, STABLE).failed).toBe(0);
      const stableErrors = (s: Series[]) =>
        sum(s, "embedops_encoder_request_duration_seconds_count", { route: "/v1/embeddings" }) -
        sum(s, "embedops_encoder_request_duration_seconds_count", { route: "/v1/embeddings", status: "200" });
      expect(stableErrors(stableAfter) - stableErrors(stableBefore)).toBe(0);
      // A failing candidate does not make the router unready: stable serves its share.
      expect((await fetch(`${router.url}/readyz`)).status).toBe(200);
    } finally {
      await toxiproxy.removeToxic("candidate", "reset");
    }
  });

  it("when the fault is gone, then the candidate gets its share again once its /info answers", async () => {
    await eventually("candidate /info ok again", async () => {
      const stats = (await call(`${router.url}/v1/stats`, "GET")).body as {
        encoder: { canary: { state: string } };
      };
      return stats.encoder.canary.state === "ok";
    });
    const before = await scrape(router.url);
    const statuses = await queries(100);
    const after = await scrape(router.url);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(outcomes(after, CANDIDATE).ok - outcomes(before, CANDIDATE).ok).toBe(candidateCalls(100, WEIGHT));
  });
});
