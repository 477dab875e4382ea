// The local rollout driver with fake processes, router and clock: what it starts, stops, routes and
// persists at each tick, driven like serve drives it.
import { describe, expect, it } from "vitest";
import { ModelRolloutPolicy } from "../../../src/api/v1alpha1/index.js";
import { ChildStartError } from "../../../src/local/child-process.js";
import type { EncoderRouting } from "../../../src/local/plan.js";
import {
  type EncoderHandle,
  initialRolloutFile,
  intervalMsOf,
  RolloutDriver,
  type RolloutFile,
  type RolloutIo,
} from "../../../src/local/rollout-driver.js";
import type { Sample } from "../../../src/rollout/prometheus-text.js";
import type { Logger } from "../../../src/util/log.js";

const FP = "ab".repeat(32);
const policy = ModelRolloutPolicy.parse({
  analysisIntervalSeconds: 10,
  stepWeights: [10, 50],
  maxFailedChecks: 1,
  slo: { maxP99LatencyMs: 200, minRequests: 10 },
  probe: { requests: 20 },
});

/** A fake data plane: the router served `calls[rev]` calls of `latencyS` seconds each. */
class Fake implements RolloutIo {
  t = Date.parse("2026-01-01T00:00:00Z");
  running = new Map<string, EncoderHandle>();
  started: string[] = [];
  /** Starts and stops in the order they happened. */
  order: string[] = [];
  stopped: string[] = [];
  routes: EncoderRouting[] = [];
  saved: RolloutFile[] = [];
  said: string[] = [];
  endings: string[] = [];
  probes = 0;
  calls: Record<string, { n: number; latencyS: number }> = {};
  command: string | undefined;
  now = () => this.t;
  /** Exit codes the next starts of a revision end with, before listening (then it starts). */
  exits: Record<string, number[]> = {};
  async startEncoder(revision: string) {
    const code = this.exits[revision]?.shift();
    if (code !== undefined) {
      this.started.push(`${revision}!`);
      throw new ChildStartError(`encoder-minilm-${revision}`, code, null, `refused (${code})`, "/logs/x.log");
    }
    const h = { revision, url: `http://enc-${revision}`, routedUrl: `http://enc-${revision}` };
    this.running.set(revision, h);
    this.started.push(revision);
    this.order.push(`start ${revision}`);
    return h;
  }
  async stopEncoder(h: EncoderHandle) {
    this.running.delete(h.revision);
    this.stopped.push(h.revision);
    this.order.push(`stop ${h.revision}`);
  }
  async fingerprint() {
    return FP;
  }
  ended(result: string, reason: string) {
    this.endings.push(`${result}/${reason}`);
  }
  async scrape(url: string): Promise<Sample[]> {
    if (!url.startsWith("http://router")) return [];
    return Object.entries(this.calls).flatMap(([revision, { n, latencyS }]) => [
      {
        name: "embedops_router_encoder_calls_total",
        labels: { revision, kind: "query", outcome: "ok" },
        value: n,
      },
      ...[0.05, 0.1, 0.25, 0.5, 1].map((le) => ({
        name: "embedops_router_encoder_request_duration_seconds_bucket",
        labels: { revision, kind: "query", outcome: "ok", le: String(le) },
        value: latencyS <= le ? n : 0,
      })),
      {
        name: "embedops_router_encoder_request_duration_seconds_bucket",
        labels: { revision, kind: "query", outcome: "ok", le: "+Inf" },
        value: n,
      },
    ]);
  }
  routers = () => ["http://router"];
  async route(e: EncoderRouting) {
    this.routes.push(e);
  }
  async probe() {
    this.probes += 1;
  }
  readCommand = () => this.command;
  save(f: RolloutFile) {
    this.saved.push(structuredClone(f));
  }
  say(line: string) {
    this.said.push(line);
  }
  serve(rev: string, n: number, latencyS = 0.02) {
    const c = this.calls[rev] ?? { n: 0, latencyS };
    this.calls[rev] = { n: c.n + n, latencyS };
  }
}

/** The driver's JSON log lines are not what these tests look at; `io.said` holds the human ones. */
const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quiet,
};

const spec = (revision: string, threads: number) => ({
  revision,
  args: ["--threads", String(threads)],
  policy,
  replicas: 1,
});

async function setup() {
  const io = new Fake();
  const log = quiet;
  const d = new RolloutDriver(
    "minilm",
    spec("stable1", 1),
    initialRolloutFile("minilm", "stable1", ["--threads", "1"]),
    io,
    log,
    true,
  );
  await d.startStable();
  await d.tick();
  return { io, d };
}

/** Advances the fake clock by `s` seconds, the canary serving `n` calls meanwhile, then ticks twice (baseline scrape, then apply). */
async function step(io: Fake, d: RolloutDriver, s: number, n = 0, latencyS = 0.02) {
  io.t += s * 1000;
  if (n > 0) io.serve(d.state.canary?.revision ?? "", n, latencyS);
  await d.tick();
  await new Promise((r) => setTimeout(r, 0));
}

describe("RolloutDriver", () => {
  it("when the runtime changes and the candidate is healthy, then it is promoted step by step and the old stable stops", async () => {
    const { io, d } = await setup();
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    expect(io.started).toEqual(["stable1", "cand2"]);
    expect(d.state.canary?.phase).toBe("Initializing");
    await step(io, d, 1);
    expect(d.state.canary).toMatchObject({ phase: "Progressing", weight: 10 });
    expect(io.routes.at(-1)).toEqual({
      url: "http://enc-stable1",
      revision: "stable1",
      canary: { url: "http://enc-cand2", revision: "cand2", weight: 10 },
    });
    await step(io, d, 10, 50);
    expect(d.state.canary).toMatchObject({ phase: "Progressing", weight: 50 });
    await step(io, d, 10, 50);
    expect(d.state.canary?.phase).toBe("Promoting");
    expect(io.routes.at(-1)?.canary?.weight).toBe(100);
    await step(io, d, 6);
    expect(d.state.canary?.phase).toBe("Succeeded");
    expect(d.state.stableRevision).toBe("cand2");
    expect(io.stopped).toEqual(["stable1"]);
    expect(io.routes.at(-1)).toEqual({ url: "http://enc-cand2", revision: "cand2" });
    expect(Object.keys(d.state.args)).toEqual(["cand2"]);
    expect(io.saved.at(-1)?.canary?.phase).toBe("Succeeded");
    expect(io.endings).toEqual(["Succeeded/Promoted"]);
  });

  it("when the candidate's p99 breaks the SLO, then it is rolled back, stopped, and the Warning names the check", async () => {
    const { io, d } = await setup();
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    await step(io, d, 1);
    await step(io, d, 10, 50, 0.4);
    expect(d.state.canary).toMatchObject({ phase: "Failed", reason: "RolloutFailed", weight: 0 });
    expect(io.stopped).toEqual(["cand2"]);
    expect(io.routes.at(-1)).toEqual({ url: "http://enc-stable1", revision: "stable1" });
    expect(io.said.join("\n")).toMatch(/Warning RolloutFailed: .*p99 \d+ ms > 200 ms at weight 10%/);
    expect(d.state.stableRevision).toBe("stable1");
    expect(io.endings).toEqual(["Failed/RolloutFailed"]);
  });

  it("when the candidate refuses to start (exit 2), then the rollout fails at once naming its error, stable untouched", async () => {
    const { io, d } = await setup();
    io.exits["cand2"] = [2];
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    await new Promise((r) => setTimeout(r, 0));
    expect(d.state.canary).toMatchObject({ phase: "Failed", reason: "CandidateCannotStart", weight: 0 });
    expect(d.state.canary?.message).toContain(
      "encoder-minilm-cand2 exited before listening (code 2, signal null): refused (2)",
    );
    expect(io.said.join("\n")).toMatch(/Warning CandidateCannotStart: revision cand2 cannot start/);
    expect(io.started).toEqual(["stable1", "cand2!"]);
    expect(d.state.stableRevision).toBe("stable1");
    expect(io.endings).toEqual(["Failed/CandidateCannotStart"]);
  });

  it("when the candidate exits before listening once (code 1), then it is started again and the rollout goes on", async () => {
    const { io, d } = await setup();
    io.exits["cand2"] = [1];
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    expect(d.state.canary?.phase).toBe("Initializing");
    await step(io, d, 11);
    await step(io, d, 1);
    expect(io.started).toEqual(["stable1", "cand2!", "cand2"]);
    expect(d.state.canary).toMatchObject({ phase: "Progressing", weight: 10 });
  });

  it("when the candidate exits before listening twice (code 1), then the rollout fails like a crash loop", async () => {
    const { io, d } = await setup();
    io.exits["cand2"] = [1, 1];
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    expect(d.state.canary?.phase).toBe("Initializing");
    await step(io, d, 11);
    await new Promise((r) => setTimeout(r, 0));
    expect(io.started).toEqual(["stable1", "cand2!", "cand2!"]);
    expect(d.state.canary).toMatchObject({ phase: "Failed", reason: "CandidateCannotStart" });
  });

  it("when a newer revision replaces a running candidate, then the old candidate stops (and leaves the router) before the new one starts", async () => {
    const { io, d } = await setup();
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    await step(io, d, 1);
    expect(d.state.canary).toMatchObject({ revision: "cand2", phase: "Progressing" });
    d.update(spec("cand3", 3));
    await step(io, d, 0);
    expect(io.order.slice(-2)).toEqual(["stop cand2", "start cand3"]);
    expect(io.routes.at(-1)).toEqual({ url: "http://enc-stable1", revision: "stable1" });
    expect(io.running.has("stable1")).toBe(true);
  });

  it("when the candidate gets no traffic, then probes are sent to it", async () => {
    const { io, d } = await setup();
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    await step(io, d, 1);
    await step(io, d, 10);
    expect(d.state.canary).toMatchObject({ phase: "Progressing", probing: true });
    await step(io, d, 9);
    expect(io.probes).toBeGreaterThanOrEqual(20);
  });

  it("when a command file names the candidate, then it is acted on once", async () => {
    const { io, d } = await setup();
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    await step(io, d, 1);
    io.command = "abort:cand2:1";
    await step(io, d, 0);
    expect(d.state.canary).toMatchObject({
      phase: "Failed",
      reason: "Aborted",
      lastCommand: "abort:cand2:1",
    });
    io.command = "retry:cand2:2";
    await step(io, d, 0);
    expect(d.state.canary?.phase).toBe("Initializing");
  });

  it("when serve restarts mid-rollout, then a new driver from the saved file resumes at the same step", async () => {
    const { io, d } = await setup();
    d.update(spec("cand2", 2));
    await step(io, d, 0);
    await step(io, d, 1);
    await step(io, d, 10, 50);
    const saved = io.saved.at(-1) as RolloutFile;
    expect(saved.canary).toMatchObject({ phase: "Progressing", weight: 50, stepIndex: 1 });
    await d.stop();
    const io2 = new Fake();
    io2.t = io.t;
    const d2 = new RolloutDriver("minilm", spec("cand2", 2), structuredClone(saved), io2, quiet, true);
    await d2.startStable();
    expect(io2.started).toEqual(["stable1"]);
    await step(io2, d2, 1);
    expect(io2.started).toEqual(["stable1", "cand2"]);
    expect(d2.state.canary).toMatchObject({ phase: "Progressing", weight: 50, stepIndex: 1 });
    expect(io2.routes.at(-1)?.canary?.weight).toBe(50);
  });

  it("when the candidate cannot start, then it is retried now and then, not at every tick", async () => {
    const { io, d } = await setup();
    let attempts = 0;
    io.startEncoder = async () => {
      attempts += 1;
      throw new Error("exited before listening");
    };
    d.update(spec("cand2", 2));
    for (let i = 0; i < 10; i++) await step(io, d, 0.5);
    expect(attempts).toBe(1);
    await step(io, d, 10);
    expect(attempts).toBe(2);
    expect(d.state.canary?.phase).toBe("Initializing");
    expect(d.stable?.revision).toBe("stable1");
  });

  it("when EMBEDOPS_TEST_MIN_INTERVAL_SECONDS is set, then it shortens the interval, never lengthens it", () => {
    expect(intervalMsOf(policy, {})).toBe(10_000);
    expect(intervalMsOf(policy, { EMBEDOPS_TEST_MIN_INTERVAL_SECONDS: "2" })).toBe(2000);
    expect(intervalMsOf(policy, { EMBEDOPS_TEST_MIN_INTERVAL_SECONDS: "60" })).toBe(10_000);
  });
});
