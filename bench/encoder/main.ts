// `npm run bench:encoder`: our encoder server against the engine's own limit and two peers, side by
// side in one run on the same model, threads and inputs. Writes bench/results/encoder.{json,md,png}.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cosine } from "../../src/encoder/pooling.js";
import { version as embedopsVersion } from "../../src/version.js";
import { type ProfileSummary, summarizeProfile } from "../lib/cpuprofile.js";
import { benchCache, benchPython, plotLines } from "../lib/plot.js";
import { loadAverageText, type MachineInfo, machineInfo, writeJson, writeText } from "../lib/report.js";
import { type LatencySummary, ratioVerdict, summarizeLatencies } from "../lib/stats.js";
import { closedLoop, idealBatcherLoop, type LoadResult } from "../lib/timing.js";
import { buildInputs, type InputKind, type InputSet } from "./inputs.js";
import { renderMarkdown } from "./markdown.js";
import {
  embedHttp,
  type HttpSystem,
  type InProcessSystem,
  infinityVenv,
  startEmbedops,
  startInfinity,
  startOnnxruntime,
  startTransformersJs,
} from "./systems.js";

export type SystemId = "onnxruntime" | "embedops" | "embedops-batch32" | "transformers.js" | "infinity";

export const SYSTEM_LABELS: Record<SystemId, string> = {
  onnxruntime: "(a) onnxruntime-node in-process",
  embedops: "(b) embedops encoder, HTTP, 1 input/request",
  "embedops-batch32": "(b') embedops encoder, HTTP, 32 inputs/request",
  "transformers.js": "(c) transformers.js in-process",
  infinity: "(d) Infinity (ONNX/optimum), HTTP",
};

export interface Cell {
  system: SystemId;
  kind: InputKind;
  concurrency: number;
  /** In-process: engine batch size used; HTTP: inputs per request. */
  batch: number;
  embeddingsPerSec: number;
  tokensPerSec: number;
  /** Per request (HTTP) or per caller item (in-process, FIFO wait included). */
  latency: LatencySummary;
  requests: number;
  seconds: number;
  errors: number;
  firstError?: string;
}

export interface SweepPoint {
  system: "onnxruntime" | "transformers.js";
  kind: InputKind;
  batch: number;
  embeddingsPerSec: number;
}

export interface Ratio {
  name: string;
  kind: InputKind;
  concurrency: number;
  ratio: number;
  target: number;
  met: boolean;
  text: string;
}

export interface EncoderBenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { start: MachineInfo; loadAverageEnd: [number, number, number] };
  versions: Record<string, string>;
  model: { name: string; dir: string; fingerprint: string; dimension: number };
  threads: number;
  settings: {
    cellSeconds: number;
    rounds: number;
    sweepSeconds: number;
    concurrency: number[];
    sweepBatches: number[];
  };
  inputs: Record<
    InputKind,
    { count: number; meanTokens: number; minTokens: number; maxTokens: number; example: string }
  >;
  bestBatch: Partial<Record<"onnxruntime" | "transformers.js", Record<InputKind, number>>>;
  sweeps: SweepPoint[];
  cells: Cell[];
  ratios: Ratio[];
  agreement: Partial<Record<SystemId, number>>;
  unavailable: Partial<Record<SystemId, string>>;
  notes: string[];
  profile?: {
    kind: InputKind;
    concurrency: number;
    file: string;
    summary: ProfileSummary;
    /** The measured window inside the profile (warm-up excluded). */
    loadSeconds: number;
    embeddingsPerSec: number;
    batches?: BatchStats;
  };
}

export interface BatchStats {
  /** Counted from server start: the warm-up and the profiled load. */
  batches: number;
  inferenceSeconds: number;
  meanInputs: number;
  meanPaddedTokens: number;
}

const CONCURRENCY = [1, 8, 64];
const SWEEP_BATCHES = [1, 8, 16, 32, 64];
const KINDS: InputKind[] = ["query", "passage"];
const THREADS = 2;
const CLIENT_BATCH = 32;
// 64 clients × 32 inputs would queue 2048 inputs per round: seconds of drain at passage speed and no
// new information, so the client-batched line stops at 8.
const CLIENT_BATCH_CONCURRENCY = [1, 8];

function cellFrom(
  system: SystemId,
  set: InputSet,
  concurrency: number,
  batch: number,
  r: LoadResult,
  perOp: number,
): Cell {
  const embeddings = r.ops * perOp;
  const eps = r.seconds > 0 ? embeddings / r.seconds : 0;
  return {
    system,
    kind: set.kind,
    concurrency,
    batch,
    embeddingsPerSec: eps,
    // The texts cycle through the set, so its mean token count is the mean of what was sent.
    tokensPerSec: eps * set.meanTokens,
    latency: summarizeLatencies(r.latenciesMs),
    requests: r.ops,
    seconds: r.seconds,
    errors: r.errors,
    ...(r.firstError !== undefined ? { firstError: r.firstError } : {}),
  };
}

const pickTexts = (set: InputSet, first: number, n: number): string[] =>
  Array.from({ length: n }, (_, i) => set.texts[(first + i) % set.texts.length]!);

function measureInProcess(
  sys: InProcessSystem,
  set: InputSet,
  concurrency: number,
  batch: number,
  seconds: number,
): Promise<LoadResult> {
  return idealBatcherLoop(
    {
      concurrency,
      batch,
      maxOps: Number.MAX_SAFE_INTEGER,
      maxSeconds: seconds,
      warmupOps: Math.max(batch, 8),
    },
    async (first, n) => {
      await sys.embedBatch(pickTexts(set, first, n));
    },
  );
}

async function measureHttp(
  sys: HttpSystem,
  set: InputSet,
  concurrency: number,
  perRequest: number,
  seconds: number,
): Promise<LoadResult> {
  const client = sys.client(concurrency);
  try {
    return await closedLoop(
      { concurrency, maxOps: Number.MAX_SAFE_INTEGER, maxSeconds: seconds, warmupOps: concurrency },
      async (seq) => {
        await embedHttp(client, sys, pickTexts(set, seq * perRequest, perRequest));
      },
    );
  } finally {
    client.close();
  }
}

function log(msg: string): void {
  process.stderr.write(`[bench:encoder] ${msg}\n`);
}

function packageVersion(root: string, name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "not installed";
  }
}

function pythonVersions(): Record<string, string> {
  const py = join(infinityVenv, "bin", "python");
  if (!existsSync(py)) return {};
  const r = spawnSync(
    py,
    [
      "-c",
      "import importlib.metadata as m\nfor p in ['infinity-emb','onnxruntime','optimum','transformers','torch']:\n  print(p, m.version(p))",
    ],
    { encoding: "utf8" },
  );
  const out: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const [k, v] = line.trim().split(" ");
    if (k && v) out[`python ${k}`] = v;
  }
  return out;
}

/** Scrape the server's batch histograms, to show how full its batches were under load. */
async function batchStats(url: string): Promise<BatchStats | undefined> {
  try {
    const text = await (await fetch(new URL("/metrics", url))).text();
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
    const count = num(/^embedops_encoder_batch_size_count\s+(\S+)/m);
    const inputs = num(/^embedops_encoder_batch_size_sum\s+(\S+)/m);
    const tokens = num(/^embedops_encoder_batch_tokens_sum\s+(\S+)/m);
    const inference = num(/^embedops_encoder_inference_duration_seconds_sum\s+(\S+)/m);
    if (!Number.isFinite(count) || count === 0) return undefined;
    return {
      batches: count,
      meanInputs: inputs / count,
      meanPaddedTokens: tokens / count,
      inferenceSeconds: inference,
    };
  } catch {
    return undefined;
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: "string" },
      "sweep-seconds": { type: "string" },
      quick: { type: "boolean" },
      rounds: { type: "string" },
      "skip-infinity": { type: "boolean" },
      "no-profile": { type: "boolean" },
      out: { type: "string" },
      "model-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      "usage: embedops bench encoder [--seconds N] [--rounds N] [--sweep-seconds N] [--quick] [--skip-infinity] [--no-profile] [--out DIR]\n",
    );
    return;
  }
  const root = resolve(import.meta.dirname, "..", "..");
  const cellSeconds = Number(values.seconds ?? (values.quick ? 2 : 4));
  const rounds = Math.max(1, Number(values.rounds ?? (values.quick ? 1 : 2)));
  const sweepSeconds = Number(values["sweep-seconds"] ?? (values.quick ? 1.5 : 3));
  const outDir = resolve(values.out ?? join(root, "bench", "results"));
  const modelDir = resolve(values["model-dir"] ?? join(root, "models", "all-minilm-l6-v2"));
  if (!existsSync(join(modelDir, "model.onnx")))
    throw new Error(`no model in ${modelDir}: run npm run setup:models`);

  if (
    !existsSync(benchPython()) ||
    (!values["skip-infinity"] && !existsSync(join(infinityVenv, "bin", "infinity_emb")))
  ) {
    log("setting up the bench Python venvs (scripts/bench-venv.sh)");
    spawnSync(
      "bash",
      [join(root, "scripts", "bench-venv.sh"), ...(values["skip-infinity"] ? ["--plot-only"] : [])],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
  }

  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  log(`machine: ${machine.nproc} cpu ${machine.cpuModel}, load ${loadAverageText(machine.loadAverage)}`);
  const notes: string[] = [];
  const unavailable: Partial<Record<SystemId, string>> = {};

  const ort = await startOnnxruntime(modelDir, THREADS);
  const engine = ort.engine;
  const inputs = buildInputs((t) => engine.tokenize(t));
  log(
    `inputs: ${inputs.query.texts.length} queries (mean ${inputs.query.meanTokens.toFixed(1)} tokens), ${inputs.passage.texts.length} passages (mean ${inputs.passage.meanTokens.toFixed(1)})`,
  );

  log("starting embedops encoder");
  const ours = await startEmbedops(root, modelDir, THREADS, engine.config.name);
  log("loading transformers.js");
  const tjs = await startTransformersJs(modelDir, engine, THREADS);
  let infinity: HttpSystem | undefined;
  if (values["skip-infinity"]) {
    unavailable.infinity = "skipped with --skip-infinity";
  } else {
    log("starting Infinity");
    try {
      infinity = await startInfinity(modelDir, engine, THREADS, 32);
      const optimizerWarning = infinity.server
        .tail()
        .split("\n")
        .find((l) => l.includes("Optimization failed"));
      if (optimizerWarning !== undefined || infinity.server.tail().includes("Optimization failed")) {
        notes.push(
          'Infinity logged "Optimization failed with OptimizationConfig.__init__() got an unexpected keyword argument ' +
            "'optimize_with_onnxruntime_only'\" (infinity-emb 0.0.78 vs optimum 2.x) and serves the unoptimised ONNX " +
            "file — the same file our engine loads; onnxruntime still applies its own graph optimisations at load.",
        );
      }
    } catch (err) {
      unavailable.infinity = (err as Error).message;
      log(`Infinity unavailable: ${(err as Error).message.split("\n")[0]}`);
    }
  }

  try {
    // Same model, same vectors: every peer must agree with our engine before its speed means anything.
    const probe = [...inputs.query.texts.slice(0, 4), ...inputs.passage.texts.slice(0, 4)];
    const reference = await ort.embedBatch(probe);
    const minCos = (rows: Float32Array[]) => Math.min(...rows.map((r, i) => cosine(r, reference[i]!)));
    const agreement: Partial<Record<SystemId, number>> = { onnxruntime: 1 };
    {
      const c = ours.client(1);
      agreement.embedops = minCos(
        await Promise.all(probe.map((t) => embedHttp(c, ours, [t]).then((r) => r[0]!))),
      );
      c.close();
    }
    agreement["transformers.js"] = minCos(await tjs.embedBatch(probe));
    if (infinity) {
      const c = infinity.client(1);
      agreement.infinity = minCos(await embedHttp(c, infinity, probe));
      c.close();
    }
    log(`agreement (min cosine vs engine): ${JSON.stringify(agreement)}`);

    const sweeps: SweepPoint[] = [];
    const bestBatch: EncoderBenchReport["bestBatch"] = {
      onnxruntime: { query: 1, passage: 1 },
      "transformers.js": { query: 1, passage: 1 },
    };
    for (const kind of KINDS) {
      for (const [id, sys] of [
        ["onnxruntime", ort],
        ["transformers.js", tjs],
      ] as const) {
        let best = 0;
        for (const b of SWEEP_BATCHES) {
          const r = await measureInProcess(sys, inputs[kind], b, b, sweepSeconds);
          const eps = r.ops / r.seconds;
          sweeps.push({ system: id, kind, batch: b, embeddingsPerSec: eps });
          log(`sweep ${id} ${kind} batch ${b}: ${eps.toFixed(1)} emb/s`);
          if (eps > best) {
            best = eps;
            bestBatch[id]![kind] = b;
          }
        }
      }
    }

    const add = (c: Cell) => {
      log(
        `${c.system} ${c.kind} c=${c.concurrency} batch=${c.batch}: ${c.embeddingsPerSec.toFixed(1)} emb/s, p50 ${c.latency.p50Ms.toFixed(1)} ms, p99 ${c.latency.p99Ms.toFixed(1)} ms${c.errors ? `, ${c.errors} errors (${c.firstError})` : ""}`,
      );
    };
    // Interleaved (all systems at one concurrency, then the next) so drifting load from other
    // work on the machine hits every system alike rather than whichever ran last; and `rounds`
    // times over, keeping each cell's best round, since other work only ever slows a cell down.
    const cellKey = (c: Cell) => `${c.system}/${c.kind}/${c.concurrency}`;
    const best = new Map<string, Cell>();
    for (let round = 1; round <= rounds; round++) {
      log(`round ${round} of ${rounds}, load ${loadAverageText(machineInfo().loadAverage)}`);
      for (const kind of KINDS) {
        const set = inputs[kind];
        for (const c of CONCURRENCY) {
          const measured: Cell[] = [];
          const ba = Math.min(c, bestBatch.onnxruntime![kind]);
          measured.push(
            cellFrom("onnxruntime", set, c, ba, await measureInProcess(ort, set, c, ba, cellSeconds), 1),
          );
          measured.push(cellFrom("embedops", set, c, 1, await measureHttp(ours, set, c, 1, cellSeconds), 1));
          const bc = Math.min(c, bestBatch["transformers.js"]![kind]);
          measured.push(
            cellFrom("transformers.js", set, c, bc, await measureInProcess(tjs, set, c, bc, cellSeconds), 1),
          );
          if (infinity) {
            measured.push(
              cellFrom("infinity", set, c, 1, await measureHttp(infinity, set, c, 1, cellSeconds), 1),
            );
          }
          if (CLIENT_BATCH_CONCURRENCY.includes(c)) {
            const r = await measureHttp(ours, set, c, CLIENT_BATCH, cellSeconds);
            measured.push(cellFrom("embedops-batch32", set, c, CLIENT_BATCH, r, CLIENT_BATCH));
          }
          for (const cell of measured) {
            add(cell);
            const prev = best.get(cellKey(cell));
            if (prev === undefined || cell.embeddingsPerSec > prev.embeddingsPerSec)
              best.set(cellKey(cell), cell);
          }
        }
      }
    }
    const cells = [...best.values()];

    const at = (s: SystemId, k: InputKind, c: number) =>
      cells.find((x) => x.system === s && x.kind === k && x.concurrency === c)?.embeddingsPerSec;
    const ratios: Ratio[] = [];
    for (const kind of KINDS) {
      for (const c of CONCURRENCY) {
        const push = (name: string, den: SystemId, target: number) => {
          const v = ratioVerdict(at("embedops", kind, c), at(den, kind, c), target);
          ratios.push({ name, kind, concurrency: c, ratio: v.ratio, target, met: v.met, text: v.text });
        };
        push("(b)/(a)", "onnxruntime", 0.9);
        push("(b)/(c)", "transformers.js", 1.5);
        push("(b)/(d)", "infinity", 1.0);
      }
    }

    const report: EncoderBenchReport = {
      startedAt,
      finishedAt: "",
      machine: { start: machine, loadAverageEnd: machineInfo().loadAverage },
      versions: {
        embedops: embedopsVersion,
        node: process.version,
        "onnxruntime-node": packageVersion(root, "onnxruntime-node"),
        "@huggingface/transformers": packageVersion(root, "@huggingface/transformers"),
        "onnxruntime-node (under transformers.js)":
          packageVersion(join(root, "node_modules", "@huggingface", "transformers"), "onnxruntime-node") ===
          "not installed"
            ? `${packageVersion(root, "onnxruntime-node")} (shared)`
            : packageVersion(join(root, "node_modules", "@huggingface", "transformers"), "onnxruntime-node"),
        express: packageVersion(root, "express"),
        ...pythonVersions(),
      },
      model: {
        name: engine.config.name,
        dir: modelDir,
        fingerprint: engine.fingerprint,
        dimension: engine.config.dimension,
      },
      threads: THREADS,
      settings: { cellSeconds, rounds, sweepSeconds, concurrency: CONCURRENCY, sweepBatches: SWEEP_BATCHES },
      inputs: Object.fromEntries(
        KINDS.map((k) => [
          k,
          {
            count: inputs[k].texts.length,
            meanTokens: inputs[k].meanTokens,
            minTokens: inputs[k].minTokens,
            maxTokens: inputs[k].maxTokens,
            example: inputs[k].texts[0]!,
          },
        ]),
      ) as EncoderBenchReport["inputs"],
      bestBatch,
      sweeps,
      cells,
      ratios,
      agreement,
      unavailable,
      notes,
    };

    // A missed target is explained with a CPU profile of the server under the load that missed it.
    const missed = ratios.filter((r) => r.concurrency === 64 && !r.met && Number.isFinite(r.ratio));
    if (missed.length > 0 && !values["no-profile"]) {
      // Queries first: they are where per-request cost (HTTP, JSON, batching) weighs most.
      const kind = missed.some((r) => r.kind === "query") ? "query" : "passage";
      log(
        `targets missed (${missed.map((r) => `${r.name} ${r.kind}`).join(", ")}): profiling the server, ${kind} at c=64`,
      );
      report.profile = await profileServer(root, modelDir, engine.config.name, inputs[kind], cellSeconds);
    }

    report.finishedAt = new Date().toISOString();
    report.machine.loadAverageEnd = machineInfo().loadAverage;
    mkdirSync(outDir, { recursive: true });
    writeJson(join(outDir, "encoder.json"), report);
    const plotError = plotLines(plotSpec(report), join(outDir, "encoder.png"));
    if (plotError) {
      report.notes.push(`plot not drawn: ${plotError}`);
      writeJson(join(outDir, "encoder.json"), report);
    }
    writeText(join(outDir, "encoder.md"), renderMarkdown(report));

    process.stdout.write("\nratios at concurrency 64 (embeddings/s):\n");
    for (const r of ratios.filter((x) => x.concurrency === 64))
      process.stdout.write(`  ${r.name} ${r.kind.padEnd(7)} ${r.text}\n`);
    process.stdout.write(`\nwrote ${join(outDir, "encoder.json")}, encoder.md, encoder.png\n`);
  } finally {
    await ours.server.stop();
    if (infinity) await infinity.server.stop();
    await tjs.close().catch(() => {});
    await ort.close();
  }
}

async function profileServer(
  root: string,
  modelDir: string,
  modelName: string,
  set: InputSet,
  seconds: number,
): Promise<EncoderBenchReport["profile"]> {
  const dir = join(benchCache, "bench", "profile");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sys = await startEmbedops(root, modelDir, THREADS, modelName, [
    "--cpu-prof",
    `--cpu-prof-dir=${dir}`,
  ]);
  let stats: BatchStats | undefined;
  let load: LoadResult | undefined;
  try {
    load = await measureHttp(sys, set, 64, 1, seconds);
    stats = await batchStats(sys.url);
  } finally {
    await sys.server.stop();
  }
  // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile): the main thread is
  // thread 0; the inference worker's is all onnxruntime.
  const profiles = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const file = profiles.find((f) => f.split(".")[4] === "0") ?? profiles[0];
  if (file === undefined) return undefined;
  const summary = summarizeProfile(join(dir, file), 20);
  return {
    kind: set.kind,
    concurrency: 64,
    file: join(dir, file),
    summary,
    loadSeconds: load?.seconds ?? Number.NaN,
    embeddingsPerSec: load ? load.ops / load.seconds : Number.NaN,
    ...(stats ? { batches: stats } : {}),
  };
}

function plotSpec(report: EncoderBenchReport) {
  const styles: Record<SystemId, string> = {
    onnxruntime: "k^-",
    embedops: "o-",
    "embedops-batch32": "o--",
    "transformers.js": "s-",
    infinity: "D-",
  };
  return {
    title: `${report.model.name}, ${report.threads} threads, ${report.machine.start.nproc} × ${report.machine.start.cpuModel}`,
    footnote: `load average ${loadAverageText(report.machine.start.loadAverage)} at start; ${report.startedAt}`,
    panels: KINDS.map((kind) => ({
      title: `${kind === "query" ? "queries" : "passages"} (~${Math.round(report.inputs[kind].meanTokens)} tokens)`,
      xlabel: "concurrent clients",
      ylabel: "embeddings / s",
      xlog: true,
      series: (Object.keys(SYSTEM_LABELS) as SystemId[])
        .map((s) => {
          const pts = report.cells
            .filter((c) => c.system === s && c.kind === kind)
            .sort((a, b) => a.concurrency - b.concurrency);
          return {
            label: SYSTEM_LABELS[s],
            x: pts.map((p) => p.concurrency),
            y: pts.map((p) => p.embeddingsPerSec),
            style: styles[s],
          };
        })
        .filter((s) => s.x.length > 0),
    })),
  };
}
