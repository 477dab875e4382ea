// `npm run bench:generation`: an index moving from model N to N+1 on this machine ("Rollouts II").
// (1) the backfill's documents/s (`embedops backfill --plan FILE`, N = all-minilm-l6-v2 on 2 shards,
// N+1 = bge-small-en-v1.5 on 2 shards) beside the candidate encoder's own documents/s at the same
// batch size, measured in the same run; (2) the stable generation's query p99 through the router at a
// steady rate before the backfill and during it, unthrottled and throttled with the latency guard,
// against an SLO. Real processes only. A script, never a test: timings are reported, not asserted.
// Writes bench/results/generation.{json,md,png}.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { HttpClient } from "../../src/router/http-client.js";
import { version as embedopsVersion } from "../../src/version.js";
import type { Role } from "../../test/dataplane/router-harness.js";
import { loadWordnetSentences } from "../../test/fixtures/corpus/wordnet.js";
import { plotLines } from "../lib/plot.js";
import { loadAverageText, machineInfo, writeJson, writeText } from "../lib/report.js";
import { plotSpec, renderMarkdown } from "./markdown.js";
import {
  type BackfillCase,
  backfillRate,
  type GenerationBenchReport,
  guardDecisions,
  type QueryRecord,
  type QueryWindow,
  queryWindow,
  ratiosOf,
  sloVerdict,
  summaryLines,
} from "./report.js";
import {
  backfillRecord,
  CANDIDATE_MODEL,
  countOf,
  type Doc,
  embedAll,
  fill,
  type Generation,
  haveModelDir,
  type PlanOptions,
  STABLE_MODEL,
  spawnBackfill,
  startEncoderOf,
  startGeneration,
  startRouter,
  writePlan,
} from "./stack.js";
import { startSteadyLoad } from "./steady-load.js";

const UNTHROTTLED = 100_000;
const QUERY_TEXTS = 300;
const K = 10;
const SHARDS = 2;
const SETTLE_MS = 5000;
const BIN_SECONDS = 5;

const usage = `usage: embedops bench generation [flags]

  --docs N               documents in generation N (default 2000)
  --batch N              backfill batchSize and the encoder's request size (default 64)
  --rate N               steady client's queries/s to the router (default 10)
  --slo-ms N             the stable's p99 SLO, also the latency guard's maxP99Ms (default 200)
  --throttle N           the throttled backfill's maxDocumentsPerSecond (default 20)
  --guard-interval N     the latency guard's intervalSeconds (default 5)
  --before-seconds N     query window before any backfill (default 30)
  --after-seconds N      query window after both (default 20)
  --throttled-seconds N  stop the throttled backfill after this long if unfinished (default 120)
  --threads N            ONNX threads of each encoder (default 2)
  --out DIR              where generation.{json,md,png} go (default bench/results)`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  process.stderr.write(`[bench:generation] ${msg}\n`);
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  const v = raw === undefined ? fallback : Number(raw);
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`--${name} must be a number > 0, got ${raw}`);
  return v;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      docs: { type: "string" },
      batch: { type: "string" },
      rate: { type: "string" },
      "slo-ms": { type: "string" },
      throttle: { type: "string" },
      "guard-interval": { type: "string" },
      "before-seconds": { type: "string" },
      "after-seconds": { type: "string" },
      "throttled-seconds": { type: "string" },
      threads: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const s = {
    docs: Math.round(positive("docs", values.docs, 2000)),
    batchSize: Math.round(positive("batch", values.batch, 64)),
    queryRatePerSecond: positive("rate", values.rate, 10),
    k: K,
    sloP99Ms: positive("slo-ms", values["slo-ms"], 200),
    throttleDocsPerSecond: positive("throttle", values.throttle, 20),
    guardIntervalSeconds: positive("guard-interval", values["guard-interval"], 5),
    beforeSeconds: positive("before-seconds", values["before-seconds"], 30),
    afterSeconds: positive("after-seconds", values["after-seconds"], 20),
    throttledMaxSeconds: positive("throttled-seconds", values["throttled-seconds"], 120),
    encoderThreads: Math.round(positive("threads", values.threads, 2)),
  };
  for (const m of [STABLE_MODEL, CANDIDATE_MODEL])
    if (!haveModelDir(m)) throw new Error(`no models/${m}/model.onnx: run npm run setup:models`);
  const root = resolve(import.meta.dirname, "..", "..");
  const outDir = resolve(values.out ?? join(root, "bench", "results"));
  const sentences = loadWordnetSentences(s.docs + QUERY_TEXTS);
  if (sentences.length < s.docs + QUERY_TEXTS)
    throw new Error(
      `WordNet has ${sentences.length} usage examples; --docs ${s.docs} needs ${s.docs + QUERY_TEXTS}`,
    );
  const docs: Doc[] = sentences.slice(0, s.docs).map((x, i) => ({
    id: x.id,
    text: x.text,
    metadata: { pos: x.pos, n: i },
  }));
  const texts = docs.map((d) => d.text);
  const queries = sentences.slice(s.docs).map((x) => x.text);

  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, load ${loadAverageText(machine.loadAverage)}`);
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), "embedops-bench-generation-"));
  const http = new HttpClient(16);
  const roles: Role[] = [];
  let load: ReturnType<typeof startSteadyLoad> | undefined;
  const backfillLogs: string[] = [];
  try {
    log(`starting the encoders (${STABLE_MODEL}, ${CANDIDATE_MODEL}) and N's ${SHARDS} shards`);
    const stable = await startEncoderOf(http, "encoder-n", STABLE_MODEL, s.encoderThreads);
    roles.push(stable.role);
    const candidate = await startEncoderOf(http, "encoder-n1", CANDIDATE_MODEL, s.encoderThreads);
    roles.push(candidate.role);
    if (stable.fingerprint === candidate.fingerprint) throw new Error("N and N+1 have one fingerprint");
    const n = await startGeneration(dir, "n", stable.fingerprint, SHARDS);
    roles.push(...n.shards);
    // One fresh N+1 per backfill: a finished record would make a second run a no-op.
    const targets: Generation[] = [];
    for (const name of ["n1-quiet", "n1-unthrottled", "n1-throttled"]) {
      const g = await startGeneration(dir, name, candidate.fingerprint, SHARDS);
      roles.push(...g.shards);
      targets.push(g);
    }
    const [quietTo, unthrottledTo, throttledTo] = targets as [Generation, Generation, Generation];

    log(`embedding ${s.docs} documents with N's encoder and writing them to N`);
    await embedAll(stable, texts.slice(0, s.batchSize * 2), s.batchSize);
    const filled = await embedAll(stable, texts, s.batchSize);
    await fill(http, n, docs, filled.vectors);
    const router = await startRouter(dir, stable, n);
    roles.push(router);

    log(`the candidate encoder alone: ${s.docs} documents, ${s.batchSize} a request`);
    await embedAll(candidate, texts.slice(0, s.batchSize * 2), s.batchSize);
    await sleep(2000);
    const capacity = (await embedAll(candidate, texts, s.batchSize)).capacity;
    log(`  ${capacity.docsPerSecond.toFixed(1)} docs/s (${capacity.seconds.toFixed(1)} s)`);
    await sleep(2000);

    const runCase = async (
      label: string,
      to: Generation,
      plan: PlanOptions,
      withQueries: boolean,
      limitSeconds?: number,
    ): Promise<BackfillCase> => {
      const path = join(dir, `plan-${to.name}.json`);
      writePlan(path, n, to, candidate, plan);
      log(`backfill: ${label}`);
      const t = performance.now();
      const p = spawnBackfill(path);
      let stoppedAtLimit = false;
      const timer =
        limitSeconds === undefined
          ? undefined
          : setTimeout(() => {
              stoppedAtLimit = true;
              p.child.kill("SIGTERM");
            }, limitSeconds * 1000);
      const code = await p.exit;
      clearTimeout(timer);
      const wallSeconds = (performance.now() - t) / 1000;
      backfillLogs.push(`==> ${label}\n${p.output()}`);
      if (code !== 0 && !stoppedAtLimit)
        throw new Error(`embedops backfill (${label}) exited ${code}:\n${p.output().slice(-3000)}`);
      const record = await backfillRecord(to);
      if (!record) throw new Error(`no backfill record on ${to.name} after the ${label} run`);
      const rate = backfillRate(record, wallSeconds);
      if (rate.finished) {
        const copied = await countOf(to);
        if (copied !== s.docs) notes.push(`${label}: N+1 holds ${copied} documents, N ${s.docs}`);
      }
      log(
        `  ${rate.done} documents in ${rate.loopSeconds.toFixed(1)} s: ${rate.docsPerSecond.toFixed(1)} docs/s` +
          ` (${rate.wallDocsPerSecond.toFixed(1)} wall)${stoppedAtLimit ? `, stopped at ${limitSeconds} s` : ""}`,
      );
      const c: BackfillCase = {
        label,
        maxDocumentsPerSecond: plan.maxDocumentsPerSecond,
        withQueries,
        exitCode: code,
        stoppedAtLimit,
        rate,
        guard: guardDecisions(p.output()),
      };
      if (plan.latencyGuard) c.latencyGuard = plan.latencyGuard;
      if (load) {
        c.window = queryWindow(
          load.recs,
          `during: ${label}`,
          Date.parse(record.startedAt),
          Date.parse(record.updatedAt),
        );
        c.slo = sloVerdict(c.window, s.sloP99Ms);
        log(
          `  stable p99 ${c.window.latency.p99Ms.toFixed(1)} ms over ${c.window.sent} queries; ${c.slo.text}`,
        );
      }
      return c;
    };

    const quiet = await runCase(
      "unthrottled, no queries",
      quietTo,
      { maxDocumentsPerSecond: UNTHROTTLED, batchSize: s.batchSize },
      false,
    );
    await sleep(SETTLE_MS);

    log(`steady client: ${s.queryRatePerSecond} queries/s to the router`);
    load = startSteadyLoad(router.url, s.queryRatePerSecond, queries, K);
    const t0 = Date.now();
    await sleep(SETTLE_MS);
    const measure = async (label: string, seconds: number) => {
      const from = Date.now();
      await sleep(seconds * 1000);
      return queryWindow((load as NonNullable<typeof load>).recs, label, from, Date.now());
    };
    let before = await measure("before the backfill", s.beforeSeconds);
    log(`  before: p99 ${before.latency.p99Ms.toFixed(1)} ms over ${before.sent} queries`);

    const unthrottled = await runCase(
      "unthrottled",
      unthrottledTo,
      { maxDocumentsPerSecond: UNTHROTTLED, batchSize: s.batchSize },
      true,
    );
    await sleep(SETTLE_MS);
    const throttled = await runCase(
      `throttled to ${s.throttleDocsPerSecond} docs/s + latency guard`,
      throttledTo,
      {
        maxDocumentsPerSecond: s.throttleDocsPerSecond,
        batchSize: s.batchSize,
        latencyGuard: {
          metricsUrl: `${stable.role.url}/metrics`,
          maxP99Ms: s.sloP99Ms,
          intervalSeconds: s.guardIntervalSeconds,
        },
      },
      true,
      s.throttledMaxSeconds,
    );
    await sleep(SETTLE_MS);
    let after = await measure("after both", s.afterSeconds);
    log(`  after: p99 ${after.latency.p99Ms.toFixed(1)} ms over ${after.sent} queries`);
    await load.stop();
    const recs: QueryRecord[] = load.recs;
    load = undefined;
    // Again now that every query is answered: those still in flight when a window closed are the
    // slow ones, and leaving them out would flatter exactly the tail being measured.
    const final = (w: QueryWindow) => queryWindow(recs, w.label, w.from, w.to);
    before = final(before);
    after = final(after);
    for (const c of [unthrottled, throttled]) {
      if (c.window === undefined) continue;
      c.window = final(c.window);
      c.slo = sloVerdict(c.window, s.sloP99Ms);
    }

    const end = machineInfo().loadAverage;
    if (end[0] > machine.nproc + 1)
      notes.push(
        `the machine was not quiet: 1-minute load average ${end[0].toFixed(2)} at the end on ${machine.nproc} cores; other work shared the cores with the encoders, shards, router and backfill`,
      );
    const backfills = { quiet, unthrottled, throttled };
    const windows = { before, after };
    const phase = (label: string, w: { from: number; to: number } | undefined) =>
      w === undefined ? [] : [{ label, from: w.from, to: w.to }];
    const report: GenerationBenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { start: machine, loadAverageEnd: end },
      versions: { embedops: embedopsVersion, node: process.version },
      settings: {
        ...s,
        stable: { model: STABLE_MODEL, fingerprint: stable.fingerprint, shards: SHARDS },
        candidate: { model: CANDIDATE_MODEL, fingerprint: candidate.fingerprint, shards: SHARDS },
      },
      stableEncoderFill: filled.capacity,
      encoderCapacity: capacity,
      backfills,
      windows,
      ratios: ratiosOf(capacity, backfills, windows),
      timeline: {
        t0,
        binSeconds: BIN_SECONDS,
        phases: [
          ...phase("before", before),
          ...phase("unthrottled backfill", unthrottled.window),
          ...phase("throttled backfill", throttled.window),
          ...phase("after", after),
        ],
      },
      notes,
    };
    writeJson(join(outDir, "generation.json"), report);
    const plotError = plotLines(plotSpec(report, recs), join(outDir, "generation.png"));
    if (plotError) {
      report.notes.push(`plot not drawn: ${plotError}`);
      writeJson(join(outDir, "generation.json"), report);
    }
    writeText(join(outDir, "generation.md"), renderMarkdown(report));
    process.stdout.write(`\n${summaryLines(report).join("\n")}\n`);
    process.stdout.write(`\nwrote ${join(outDir, "generation.json")}, generation.md, generation.png\n`);
  } finally {
    await load?.stop();
    writeFileSync(join(tmpdir(), "embedops-bench-generation.log"), backfillLogs.join("\n"));
    await Promise.all(roles.map((r) => r.stop()));
    http.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
