// `npm run bench:rollout`: how fast `embedops serve` rolls back a bad candidate at the real 10 s
// analysis interval, and what a healthy canary at 10 % costs the router's p99. Real processes only:
// serve with the quickstart-like file (MiniLM, 2 shards), 4 clients querying the router throughout,
// a Toxiproxy in front of the candidate encoder (the test-only hooks EMBEDOPS_TEST_CANARY_PORT and
// EMBEDOPS_TEST_CANARY_ROUTED_URL put it there) adding 300 ms to a 200 ms p99 SLO. Each rollback is
// compared with the bound analysisIntervalSeconds × (maxFailedChecks + 1) + 5 s, the p99 with a split
// with the p99 without one, in the same run. A script, never a test: timings are reported, not
// asserted. Writes bench/results/rollout.{json,md,png}.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readRolloutFile } from "../../src/local/rollout-driver.js";
import { parsePrometheusText } from "../../src/rollout/prometheus-text.js";
import { version as embedopsVersion } from "../../src/version.js";
import { haveModel, MODEL_DIR } from "../../test/dataplane/router-harness.js";
import {
  childPids,
  cli,
  commandLine,
  killServe,
  type ServeProcess,
  spawnServe,
  waitServeReady,
} from "../../test/dataplane/serve-process.js";
import { startToxiproxy } from "../../test/dataplane/toxiproxy.js";
import { KeepAliveClient } from "../lib/http.js";
import { plotLines } from "../lib/plot.js";
import { freePort } from "../lib/process.js";
import {
  loadAverageText,
  type MachineInfo,
  machineInfo,
  markdownTable,
  writeJson,
  writeText,
} from "../lib/report.js";
import { formatNumber, formatRatio, type LatencySummary, summarizeLatencies } from "../lib/stats.js";

const INTERVAL_S = 10;
const TOXIC_LATENCY_MS = 300;
const SLO_P99_MS = 200;
const MIN_REQUESTS = 10;
const POLL_MS = 100;
const BAD_STEPS = [50];
const HEALTHY_STEPS = [10, 50];
/** Long enough that the healthy canary stays at 10 % for the whole measured window. */
const HEALTHY_INTERVAL_S = 60;

const bound = (maxFailedChecks: number) => INTERVAL_S * (maxFailedChecks + 1) + 5;

interface RolloutYaml {
  /** maxBatchRequests: a runtime change, hence a new revision, with the threads kept. */
  maxBatchRequests?: number;
  interval: number;
  steps: number[];
  maxFailedChecks: number;
  maxP99Ms: number;
}

function yaml(o: RolloutYaml): string {
  return `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: minilm
spec:
  source:
    path: ${MODEL_DIR}
  dimension: 384
  pooling: mean
  normalize: true
  maxSequenceLength: 256
  runtime:
    replicas: 1
    threads: 2${o.maxBatchRequests !== undefined ? `\n    maxBatchRequests: ${o.maxBatchRequests}` : ""}
  rollout:
    analysisIntervalSeconds: ${o.interval}
    stepWeights: [${o.steps.join(", ")}]
    maxFailedChecks: ${o.maxFailedChecks}
    slo:
      maxP99LatencyMs: ${o.maxP99Ms}
      minRequests: ${MIN_REQUESTS}
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: docs
spec:
  modelRef:
    name: minilm
  dimension: 384
  metric: cosine
  shards: 2
  replicas: 1
`;
}

// ---- client load: a closed loop of N clients on /v1/query, every request kept with its times ----

interface Rec {
  /** Date.now() at send and at answer. */
  start: number;
  end: number;
  ok: boolean;
}

const QUERIES = [
  "how do plants make food from sunlight",
  "what causes the seasons on earth",
  "who painted the ceiling of the sistine chapel",
  "how does a vaccine train the immune system",
  "why is the sky blue",
  "what is the boiling point of water at altitude",
  "how do bees communicate",
  "what is a black hole",
];

function startLoad(router: string, clients: number) {
  const http = new KeepAliveClient(router, clients);
  const recs: Rec[] = [];
  let running = true;
  let seq = 0;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      const i = seq++;
      const body = JSON.stringify({ text: `${QUERIES[i % QUERIES.length]} (${i})`, k: 5 });
      const start = Date.now();
      const t = performance.now();
      let ok = false;
      try {
        ok = (await http.post("/v1/query", body)).status === 200;
      } catch {
        ok = false;
      }
      recs.push({ start, end: start + (performance.now() - t), ok });
      if (!ok) await sleep(20);
    }
  });
  return {
    recs,
    async stop() {
      running = false;
      await Promise.all(loops);
      http.close();
    },
  };
}

/** Requests answered within [from, to] (ms since the epoch). */
function windowOf(recs: readonly Rec[], from: number, to: number) {
  const inside = recs.filter((r) => r.end >= from && r.end <= to);
  const ok = inside.filter((r) => r.ok);
  return {
    requests: inside.length,
    failed: inside.length - ok.length,
    latency: summarizeLatencies(ok.map((r) => r.end - r.start)),
    perSecond: inside.length / Math.max(0.001, (to - from) / 1000),
  };
}

// ---- observations ------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  process.stderr.write(`[bench:rollout] ${msg}\n`);
}

/** The router's encoder calls to `revision`: count, and the sum of their durations (s). */
async function candidateCalls(router: string, revision: string) {
  const text = await (await fetch(`${router}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  let calls = 0;
  let count = 0;
  let sum = 0;
  for (const s of parsePrometheusText(text)) {
    if (s.labels["revision"] !== revision) continue;
    if (s.name === "embedops_router_encoder_calls_total") calls += s.value;
    else if (s.name === "embedops_router_encoder_request_duration_seconds_count") count += s.value;
    else if (s.name === "embedops_router_encoder_request_duration_seconds_sum") sum += s.value;
  }
  return { calls, count, sum };
}

/** serve's JSON log lines with msg `msg`. */
function logLines(s: ServeProcess, msg: string): Record<string, unknown>[] {
  return s
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes(`"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l["msg"] === msg);
}

const encoderCount = (serve: ServeProcess) =>
  childPids(serve.proc.pid!).filter((pid) => commandLine(pid).includes(" encoder ")).length;

async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | Promise<T | undefined>,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

/**
 * Watches the router's /metrics every POLL_MS for the candidate's calls: the first poll that sees
 * one, minus that call's duration (the counter moves when a call ends), is its first request; the
 * last poll where the count still grew bounds its last one.
 */
interface CallWatch {
  firstSeenAt?: number;
  firstRequestAt?: number;
  lastGrewAt?: number;
  calls: number;
}

async function pollCalls(router: string, revision: string, w: CallWatch): Promise<void> {
  const c = await candidateCalls(router, revision).catch(() => undefined);
  if (!c) return;
  const now = Date.now();
  if (c.calls > 0 && w.firstSeenAt === undefined) {
    w.firstSeenAt = now;
    const meanMs = c.count > 0 ? (c.sum / c.count) * 1000 : 0;
    w.firstRequestAt = now - meanMs;
  }
  if (c.calls > w.calls) w.lastGrewAt = now;
  w.calls = c.calls;
}

// ---- the cases ---------------------------------------------------------------------------------

export interface RollbackCase {
  maxFailedChecks: number;
  intervalSeconds: number;
  boundSeconds: number;
  candidateRevision: string;
  /** Spec change written -> candidate's first routed request (encoder start, warm-up, router reload). */
  startSeconds: number;
  /** From the candidate's first routed request (router /metrics, 100 ms polls) to serve's Failed transition. */
  rollbackSeconds: number;
  ratio: number;
  /** Same end, from serve's "router split" log line instead (earlier: the router reloads within 1 s). */
  rollbackFromSplitLogSeconds: number;
  /** First routed request -> the last poll that saw the candidate's call count grow. */
  lastCandidateCallSeconds: number;
  candidateCalls: number;
  checksFailed: number;
  message: string;
  statusJson: { phase?: string; reason?: string; weight?: number };
  clients: { requests: number; failed: number; latency: LatencySummary };
}

export interface P99Window {
  label: string;
  seconds: number;
  /** ms since the epoch. */
  from: number;
  to: number;
  requests: number;
  failed: number;
  perSecond: number;
  latency: LatencySummary;
  candidateCalls?: number;
}

export interface RolloutBenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { start: MachineInfo; loadAverageEnd: [number, number, number] };
  versions: Record<string, string>;
  settings: {
    clients: number;
    intervalSeconds: number;
    toxicLatencyMs: number;
    sloP99Ms: number;
    minRequests: number;
    badStepWeights: number[];
    healthyStepWeights: number[];
    p99WindowSeconds: number;
    pollMs: number;
  };
  rollbacks: RollbackCase[];
  p99: { noCanary: P99Window; noCanaryBefore: P99Window; noCanaryAfter: P99Window; canary10: P99Window };
  p99Ratio: number;
  notes: string[];
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      clients: { type: "string" },
      "p99-seconds": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write("usage: embedops bench rollout [--clients 4] [--p99-seconds 20] [--out DIR]\n");
    return;
  }
  if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run npm run setup:models`);
  const root = resolve(import.meta.dirname, "..", "..");
  const clients = Number(values.clients ?? 4);
  const p99Seconds = Number(values["p99-seconds"] ?? 20);
  const outDir = resolve(values.out ?? join(root, "bench", "results"));
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, load ${loadAverageText(machine.loadAverage)}`);
  const notes: string[] = [];

  const dir = mkdtempSync(join(tmpdir(), "embedops-bench-rollout-"));
  const file = join(dir, "rollout.yaml");
  const dataDir = join(dir, "data");
  const toxiproxy = await startToxiproxy();
  let serve: ServeProcess | undefined;
  let load: ReturnType<typeof startLoad> | undefined;
  try {
    const canaryPort = await freePort();
    const proxied = await toxiproxy.proxy("candidate", `127.0.0.1:${canaryPort}`);
    writeFileSync(
      file,
      yaml({ interval: INTERVAL_S, steps: BAD_STEPS, maxFailedChecks: 1, maxP99Ms: SLO_P99_MS }),
    );
    log("starting embedops serve");
    serve = spawnServe({
      dataDir,
      file,
      env: { EMBEDOPS_TEST_CANARY_PORT: String(canaryPort), EMBEDOPS_TEST_CANARY_ROUTED_URL: proxied },
    });
    const s = serve;
    const router = (await waitServeReady(s)).indexes["docs"]!.router;
    log(`router ${router}; ingesting examples/docs.jsonl`);
    const ingest = cli(["ingest", join(root, "examples", "docs.jsonl"), "--router", router]);
    if (ingest.status !== 0) throw new Error(`ingest failed: ${ingest.stderr}`);

    load = startLoad(router, clients);
    const recs = load.recs;
    await sleep(5000);
    const measure = async (label: string, seconds: number): Promise<P99Window> => {
      const from = Date.now();
      await sleep(seconds * 1000);
      const to = Date.now();
      return { label, seconds, from, to, ...windowOf(recs, from, to) };
    };
    log(`no canary: client p99 over ${p99Seconds} s`);
    const noCanaryBefore = await measure("no canary (before)", p99Seconds);
    log(
      `  p99 ${noCanaryBefore.latency.p99Ms.toFixed(0)} ms, ${noCanaryBefore.perSecond.toFixed(1)} queries/s`,
    );

    const rollbacks: RollbackCase[] = [];
    const batches = [16, 8];
    for (const [i, maxFailedChecks] of [1, 2].entries()) {
      const previous = readRolloutFile(dataDir, "minilm")?.canary?.revision;
      await toxiproxy.addToxic("candidate", {
        name: "slow",
        type: "latency",
        attributes: { latency: TOXIC_LATENCY_MS },
      });
      const writtenAt = Date.now();
      writeFileSync(
        file,
        yaml({
          maxBatchRequests: batches[i]!,
          interval: INTERVAL_S,
          steps: BAD_STEPS,
          maxFailedChecks,
          maxP99Ms: SLO_P99_MS,
        }),
      );
      log(
        `maxFailedChecks ${maxFailedChecks}: candidate +${TOXIC_LATENCY_MS} ms (bound ${bound(maxFailedChecks)} s)`,
      );
      const revision = await until("candidate revision", 60_000, () => {
        const r = readRolloutFile(dataDir, "minilm")?.canary?.revision;
        return r !== undefined && r !== previous ? r : undefined;
      });
      const w: CallWatch = { calls: 0 };
      const failed = await until("rollback", 180_000, async () => {
        await pollCalls(router, revision, w);
        const c = readRolloutFile(dataDir, "minilm")?.canary;
        if (c?.revision !== revision) return undefined;
        if (c.phase === "Succeeded") throw new Error(`the slow candidate was promoted: ${c.message}`);
        return c.phase === "Failed" ? c : undefined;
      });
      // The router drops the candidate at its next config reload (within 1 s): watch its calls stop.
      const stopWatching = Date.now() + 3000;
      while (Date.now() < stopWatching) {
        await pollCalls(router, revision, w);
        await sleep(POLL_MS);
      }
      await toxiproxy.removeToxic("candidate", "slow");
      const failedLog = logLines(s, "rollout: phase").find(
        (l) => l["revision"] === revision && l["to"] === "Failed",
      );
      const splitLog = logLines(s, "rollout: router split").find(
        (l) => l["canary"] === revision && Number(l["weight"]) > 0,
      );
      const failedAt = Date.parse(String(failedLog?.["time"]));
      const splitAt = Date.parse(String(splitLog?.["time"]));
      if (w.firstRequestAt === undefined) throw new Error("the router never called the candidate");
      const first = w.firstRequestAt;
      const status = cli(["rollout", "status", "em/minilm", "--json", "--data-dir", dataDir]);
      const statusCanary = (JSON.parse(status.stdout || "{}") as { canary?: RollbackCase["statusJson"] })
        .canary;
      const win = windowOf(recs, first, failedAt);
      const c: RollbackCase = {
        maxFailedChecks,
        intervalSeconds: INTERVAL_S,
        boundSeconds: bound(maxFailedChecks),
        candidateRevision: revision,
        startSeconds: (first - writtenAt) / 1000,
        rollbackSeconds: (failedAt - first) / 1000,
        ratio: (failedAt - first) / 1000 / bound(maxFailedChecks),
        rollbackFromSplitLogSeconds: (failedAt - splitAt) / 1000,
        lastCandidateCallSeconds: ((w.lastGrewAt ?? first) - first) / 1000,
        candidateCalls: w.calls,
        checksFailed: failed.failedChecks,
        message: failed.message ?? "",
        statusJson: {
          phase: statusCanary?.phase,
          reason: statusCanary?.reason,
          weight: statusCanary?.weight,
        },
        clients: { requests: win.requests, failed: win.failed, latency: win.latency },
      };
      rollbacks.push(c);
      log(
        `  rolled back ${c.rollbackSeconds.toFixed(2)} s after the first routed request (bound ${c.boundSeconds} s, ratio ${formatRatio(c.ratio)}); clients ${c.clients.requests} requests, ${c.clients.failed} failed; ${c.message}`,
      );
      await until("candidate stopped", 30_000, () => (encoderCount(s) === 1 ? true : undefined));
    }

    // A healthy candidate (no toxic) held at 10 % while the clients' p99 is measured.
    const previous = readRolloutFile(dataDir, "minilm")?.canary?.revision;
    writeFileSync(
      file,
      yaml({
        maxBatchRequests: 24,
        interval: HEALTHY_INTERVAL_S,
        steps: HEALTHY_STEPS,
        maxFailedChecks: 1,
        maxP99Ms: 1000,
      }),
    );
    log(`healthy candidate at ${HEALTHY_STEPS[0]} %: client p99 over ${p99Seconds} s`);
    const revision = await until("healthy candidate revision", 60_000, () => {
      const r = readRolloutFile(dataDir, "minilm")?.canary?.revision;
      return r !== undefined && r !== previous ? r : undefined;
    });
    const w: CallWatch = { calls: 0 };
    await until("healthy candidate's first call", 60_000, async () => {
      await pollCalls(router, revision, w);
      return w.firstSeenAt;
    });
    await sleep(1000);
    const callsBefore = (await candidateCalls(router, revision)).calls;
    const canary10 = await measure(`healthy canary at ${HEALTHY_STEPS[0]} %`, p99Seconds);
    canary10.candidateCalls = (await candidateCalls(router, revision)).calls - callsBefore;
    const held = readRolloutFile(dataDir, "minilm")?.canary;
    if (held?.revision !== revision || held.weight !== HEALTHY_STEPS[0] || held.phase !== "Progressing")
      notes.push(
        `the healthy canary was not at ${HEALTHY_STEPS[0]} % Progressing at the end of its window: ${held?.phase} ${held?.weight}`,
      );
    log(
      `  p99 ${canary10.latency.p99Ms.toFixed(0)} ms, ${canary10.perSecond.toFixed(1)} queries/s, candidate got ${canary10.candidateCalls} of ${canary10.requests}`,
    );
    const abort = cli(["rollout", "abort", "em/minilm", "--data-dir", dataDir]);
    if (abort.status !== 0) notes.push(`rollout abort failed: ${abort.stderr.trim()}`);
    await until("healthy candidate stopped", 30_000, () => (encoderCount(s) === 1 ? true : undefined));
    await sleep(2000);
    log(`no canary again: client p99 over ${p99Seconds} s`);
    const noCanaryAfter = await measure("no canary (after)", p99Seconds);
    log(
      `  p99 ${noCanaryAfter.latency.p99Ms.toFixed(0)} ms, ${noCanaryAfter.perSecond.toFixed(1)} queries/s`,
    );
    await load.stop();
    load = undefined;

    // The baseline pools the windows before and after, so a drift of the machine's load over the run
    // does not land on one side of the ratio only.
    const noCanary = poolWindows(recs, [noCanaryBefore, noCanaryAfter]);
    const p99Ratio = canary10.latency.p99Ms / noCanary.latency.p99Ms;
    const end = machineInfo().loadAverage;
    if (end[0] > machine.nproc + 1)
      notes.push(
        `the machine was not quiet: 1-minute load average ${end[0].toFixed(2)} at the end on ${machine.nproc} cores (the run's own processes account for about ${machine.nproc}); other work shares the cores with serve and the clients`,
      );
    const report: RolloutBenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { start: machine, loadAverageEnd: end },
      versions: { embedops: embedopsVersion, node: process.version, toxiproxy: "v2.5.0" },
      settings: {
        clients,
        intervalSeconds: INTERVAL_S,
        toxicLatencyMs: TOXIC_LATENCY_MS,
        sloP99Ms: SLO_P99_MS,
        minRequests: MIN_REQUESTS,
        badStepWeights: BAD_STEPS,
        healthyStepWeights: HEALTHY_STEPS,
        p99WindowSeconds: p99Seconds,
        pollMs: POLL_MS,
      },
      rollbacks,
      p99: { noCanary, noCanaryBefore, noCanaryAfter, canary10 },
      p99Ratio,
      notes,
    };
    writeJson(join(outDir, "rollout.json"), report);
    const plotError = plotLines(plotSpec(report), join(outDir, "rollout.png"));
    if (plotError) {
      report.notes.push(`plot not drawn: ${plotError}`);
      writeJson(join(outDir, "rollout.json"), report);
    }
    writeText(join(outDir, "rollout.md"), renderMarkdown(report));

    process.stdout.write("\nrollback of a candidate +300 ms over a 200 ms p99 SLO, 10 s interval:\n");
    for (const c of rollbacks)
      process.stdout.write(
        `  maxFailedChecks ${c.maxFailedChecks}: ${c.rollbackSeconds.toFixed(2)} s / bound ${c.boundSeconds} s = ${formatRatio(c.ratio)}; client requests failed ${c.clients.failed} of ${c.clients.requests}\n`,
      );
    process.stdout.write(
      `router p99 (${clients} clients): ${formatNumber(canary10.latency.p99Ms)} ms with a 10 % canary / ${formatNumber(noCanary.latency.p99Ms)} ms without = ${formatRatio(p99Ratio)}` +
        ` (p50 ${formatRatio(canary10.latency.p50Ms / noCanary.latency.p50Ms)}, queries/s ${formatRatio(canary10.perSecond / noCanary.perSecond)})\n`,
    );
    process.stdout.write(`\nwrote ${join(outDir, "rollout.json")}, rollout.md, rollout.png\n`);
  } finally {
    await load?.stop();
    if (serve) {
      writeFileSync(join(tmpdir(), "embedops-bench-rollout.log"), serve.output());
      await killServe(serve);
    }
    await toxiproxy.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The requests of several windows as one. */
function poolWindows(recs: readonly Rec[], windows: readonly P99Window[]): P99Window {
  const inside = recs.filter((r) => windows.some((w) => r.end >= w.from && r.end <= w.to));
  const ok = inside.filter((r) => r.ok);
  const seconds = windows.reduce((a, w) => a + (w.to - w.from) / 1000, 0);
  return {
    label: "no canary (before and after, pooled)",
    seconds,
    from: Math.min(...windows.map((w) => w.from)),
    to: Math.max(...windows.map((w) => w.to)),
    requests: inside.length,
    failed: inside.length - ok.length,
    perSecond: inside.length / Math.max(0.001, seconds),
    latency: summarizeLatencies(ok.map((r) => r.end - r.start)),
  };
}

function plotSpec(r: RolloutBenchReport) {
  const m = r.rollbacks.map((c) => c.maxFailedChecks);
  const windows = [r.p99.noCanaryBefore, r.p99.canary10, r.p99.noCanaryAfter];
  return {
    title: `embedops serve rollouts, ${r.settings.clients} clients, ${r.machine.start.nproc} × ${r.machine.start.cpuModel}`,
    footnote: `load average ${loadAverageText(r.machine.start.loadAverage)} at start; ${r.startedAt}`,
    panels: [
      {
        title: `bad candidate (+${r.settings.toxicLatencyMs} ms, SLO p99 ${r.settings.sloP99Ms} ms), interval ${r.settings.intervalSeconds} s`,
        xlabel: "maxFailedChecks",
        ylabel: "seconds from the candidate's first request",
        xticks: m,
        series: [
          {
            label: "bound: interval × (maxFailedChecks + 1) + 5 s",
            x: m,
            y: r.rollbacks.map((c) => c.boundSeconds),
            style: "k^--",
          },
          {
            label: "rolled back (Failed transition)",
            x: m,
            y: r.rollbacks.map((c) => c.rollbackSeconds),
            style: "o-",
          },
          {
            label: "candidate's last routed call seen",
            x: m,
            y: r.rollbacks.map((c) => c.lastCandidateCallSeconds),
            style: "s:",
          },
        ],
      },
      {
        title: "client query latency (router /v1/query)",
        xlabel: "window: 1 no canary, 2 healthy canary at 10 %, 3 no canary",
        ylabel: "ms",
        xticks: [1, 2, 3],
        series: [
          { label: "p99", x: [1, 2, 3], y: windows.map((w) => w.latency.p99Ms), style: "o-" },
          { label: "p50", x: [1, 2, 3], y: windows.map((w) => w.latency.p50Ms), style: "s--" },
        ],
      },
    ],
  };
}

function renderMarkdown(r: RolloutBenchReport): string {
  const ms = (v: number) => formatNumber(v);
  const rollbackRows = r.rollbacks.map((c) => [
    String(c.maxFailedChecks),
    `${c.rollbackSeconds.toFixed(2)} s`,
    `${c.boundSeconds} s`,
    formatRatio(c.ratio),
    `${c.lastCandidateCallSeconds.toFixed(1)} s`,
    `${c.rollbackFromSplitLogSeconds.toFixed(2)} s`,
    `${c.startSeconds.toFixed(1)} s`,
    `${c.clients.failed} / ${c.clients.requests}`,
    `${ms(c.clients.latency.p99Ms)} ms`,
    String(c.candidateCalls),
    c.message,
  ]);
  const p99Rows = [r.p99.noCanaryBefore, r.p99.canary10, r.p99.noCanaryAfter, r.p99.noCanary].map((w) => [
    w.label,
    w.seconds.toFixed(0),
    String(w.requests),
    String(w.failed),
    w.perSecond.toFixed(1),
    ms(w.latency.p50Ms),
    ms(w.latency.p95Ms),
    ms(w.latency.p99Ms),
    w.candidateCalls === undefined ? "–" : String(w.candidateCalls),
  ]);
  return [
    "# Rollouts under `embedops serve`: rollback time and the cost of a split",
    "",
    `\`npm run bench:rollout\`, ${r.startedAt} → ${r.finishedAt}. ${r.machine.start.nproc} × ${r.machine.start.cpuModel}, ` +
      `load average ${loadAverageText(r.machine.start.loadAverage)} at start, ${loadAverageText(r.machine.loadAverageEnd)} at the end; ` +
      `node ${r.versions["node"]}, embedops ${r.versions["embedops"]}, Toxiproxy ${r.versions["toxiproxy"]}.`,
    "",
    `Real processes: \`embedops serve\` (MiniLM, threads 2, an index of 2 shards holding examples/docs.jsonl), ` +
      `${r.settings.clients} clients querying the router back to back for the whole run, a Toxiproxy between the router ` +
      `and the candidate encoder. A runtime change (maxBatchRequests) makes each candidate.`,
    "",
    `## A bad candidate: rollback time against the bound`,
    "",
    `The candidate is ${r.settings.toxicLatencyMs} ms slower (a Toxiproxy latency toxic) than an SLO of p99 ` +
      `${r.settings.sloP99Ms} ms, stepWeights [${r.settings.badStepWeights.join(", ")}], analysisIntervalSeconds ` +
      `${r.settings.intervalSeconds} (the real one: no test override), minRequests ${r.settings.minRequests}. ` +
      `Bound: analysisIntervalSeconds × (maxFailedChecks + 1) + 5 s from the candidate's first traffic.`,
    "",
    markdownTable(
      [
        "maxFailedChecks",
        "rolled back after",
        "bound",
        "ratio",
        "last candidate call",
        "from serve's split log",
        "spec change → first request",
        "client requests failed",
        "client p99 meanwhile",
        "candidate calls",
        "verdict",
      ],
      rollbackRows,
    ),
    "",
    `- **Start**: the candidate's first routed request, from the router's /metrics ` +
      `(\`embedops_router_encoder_calls_total{revision}\`) polled every ${r.settings.pollMs} ms: the first poll that ` +
      `counts a call, minus that call's duration (the counter moves when a call ends); ±${r.settings.pollMs} ms. ` +
      `serve's "rollout: router split" log line is earlier (the router reads its config file once a second), so the ` +
      `"from serve's split log" column over-states by up to 1 s; the counter is the more precise start.`,
    `- **End**: serve's transition to Failed (its "rollout: phase" log line, ms), the moment the state machine ` +
      `rolled back and serve rewrote the router's split; \`embedops rollout status --json\` then said ` +
      r.rollbacks
        .map((c) => `${c.statusJson.phase}/${c.statusJson.reason} at weight ${c.statusJson.weight}`)
        .join(", ") +
      `. "last candidate call" is the last poll where the candidate's call count still grew: the router stops ` +
      `sending at its next config read (≤ 1 s), and calls in flight finish ${r.settings.toxicLatencyMs} ms later.`,
    `- The first check runs one interval after the rollout entered Progressing, which is when serve writes ` +
      `the split; the router reads it up to 1 s later, so a first check can come less than an interval after ` +
      `the candidate's first request.`,
    `- **Client requests failed**: queries answered with a status other than 200 (or not at all) between start and end.`,
    "",
    `## Router p99 with and without a ${r.settings.healthyStepWeights[0]} % split`,
    "",
    `A healthy candidate (no toxic, still behind the Toxiproxy listener) held at ${r.settings.healthyStepWeights[0]} % ` +
      `(stepWeights [${r.settings.healthyStepWeights.join(", ")}], a ${HEALTHY_INTERVAL_S} s interval, then aborted); ` +
      `${r.settings.p99WindowSeconds} s windows of client latency, starting 1 s after its first routed call. The ` +
      `baseline pools the no-canary windows before and after, so drift of the machine's load shows in neither alone.`,
    "",
    markdownTable(
      ["window", "s", "requests", "failed", "queries/s", "p50 ms", "p95 ms", "p99 ms", "candidate calls"],
      p99Rows,
    ),
    "",
    `**p99 with the split / without: ${formatRatio(r.p99Ratio)}** (${ms(r.p99.canary10.latency.p99Ms)} ms / ${ms(r.p99.noCanary.latency.p99Ms)} ms). ` +
      `A candidate encoder is a second process with its own 2 ONNX threads on the same 2 cores, so the ratio carries ` +
      `its CPU cost as well as the split itself. Same run: p50 ${formatRatio(r.p99.canary10.latency.p50Ms / r.p99.noCanary.latency.p50Ms)} ×, ` +
      `queries/s ${formatRatio(r.p99.canary10.perSecond / r.p99.noCanary.perSecond)} ×.`,
    "",
    ...(r.notes.length > 0 ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
    "![rollback time vs bound; client latency](rollout.png)",
    "",
  ].join("\n");
}
