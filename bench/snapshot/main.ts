// `npm run bench:snapshot`: issue 10's benchmark. Random unit vectors (default 200,000 × 384) go into
// 2 real `embedops shard` processes through POST /v1/points; the shards are restarted so their data
// directories hold exactly shard.db and a graph checkpoint; then, in one run on the same disk:
// `cp -r` of both data directories (the peer), snapshot → path store, restore ← path store, and the
// same against a real versitygw S3 server. Each step's MB/s is compared with cp's. A script, never a
// test: timings are reported, not asserted. Writes bench/results/snapshot.{json,md,png}.
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generationName } from "../../src/core/generation.js";
import { shardDataDir } from "../../src/local/plan.js";
import { encodePoints, POINTS_CONTENT_TYPE, type ShardPoint } from "../../src/router/shard-client.js";
import { shardForId } from "../../src/router/shard-hash.js";
import { shardDefaults } from "../../src/shard/shard.js";
import { createSnapshot } from "../../src/snapshot/create.js";
import { snapshotRoot } from "../../src/snapshot/layout.js";
import { PathStore } from "../../src/snapshot/path-store.js";
import { restoreSnapshot } from "../../src/snapshot/restore.js";
import { S3Store } from "../../src/snapshot/s3-store.js";
import type { SnapshotStore } from "../../src/snapshot/store.js";
import type { LogFields, Logger } from "../../src/util/log.js";
import { rng, type ShardProcess, startShardProcess } from "../../test/dataplane/shard-process.js";
import { startVersitygw, type Versitygw } from "../../test/dataplane/versitygw.js";
import { plotLines } from "../lib/plot.js";
import { machineInfo, writeJson, writeText } from "../lib/report.js";
import { formatNumber, formatRatio } from "../lib/stats.js";
import {
  mbPerSecond,
  type Phase,
  pathTarget,
  renderMarkdown,
  type SnapshotBenchReport,
  type StepMeasure,
  type StoreKind,
  stepRows,
  type Timed,
} from "./report.js";

const DIM = 384;
const SHARDS = 2;
const FP = "be0c5a0f1e2d3c4b5a697887";
const GENERATION = generationName(FP);
const INDEX = "bench";
const root = resolve(import.meta.dirname, "..", "..");

/** The info lines create and restore log (their phase timings), kept until taken. */
function capturingLogger(): { log: Logger; take: () => { msg: string; fields: LogFields }[] } {
  let lines: { msg: string; fields: LogFields }[] = [];
  const log: Logger = {
    debug() {},
    info(msg, fields) {
      lines.push({ msg, fields: fields ?? {} });
    },
    warn() {},
    error() {},
    child: () => log,
  };
  return {
    log,
    take: () => {
      const out = lines;
      lines = [];
      return out;
    },
  };
}

/** The largest number under `field` in the lines called `msg`, in seconds; 0 when there is none. */
function maxSeconds(
  lines: readonly { msg: string; fields: LogFields }[],
  msg: string,
  field: string,
): number {
  let ms = 0;
  for (const l of lines) {
    const v = l.fields[field];
    if (l.msg === msg && typeof v === "number") ms = Math.max(ms, v);
  }
  return ms / 1000;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Vector i, the same in every run: uniform on the unit sphere (normalised Gaussian draws). */
function unitVector(i: number): Float32Array {
  const r = rng(0x5eed + i);
  const v = new Float32Array(DIM);
  let norm = 0;
  for (let d = 0; d < DIM; d++) {
    const g = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    v[d] = g;
    norm += g * g;
  }
  norm = Math.sqrt(norm);
  for (let d = 0; d < DIM; d++) v[d] = (v[d] as number) / norm;
  return v;
}

async function ingest(shards: readonly ShardProcess[], n: number, batch: number): Promise<number> {
  const per: number[][] = shards.map(() => []);
  for (let i = 0; i < n; i++) per[shardForId(`v${i}`, shards.length)]?.push(i);
  const t0 = performance.now();
  let done = 0;
  let lastSaid = t0;
  await Promise.all(
    shards.map(async (shard, s) => {
      const rows = per[s] as number[];
      for (let at = 0; at < rows.length; at += batch) {
        const points: ShardPoint[] = rows
          .slice(at, at + batch)
          .map((i) => ({ id: `v${i}`, vector: unitVector(i) }));
        const res = await fetch(`${shard.url}/v1/points`, {
          method: "POST",
          body: encodePoints(points),
          headers: { "content-type": POINTS_CONTENT_TYPE },
        });
        const text = await res.text();
        if (res.status !== 200)
          throw new Error(`POST /v1/points to shard ${s}: ${res.status} ${text.slice(0, 300)}`);
        done += points.length;
        if (performance.now() - lastSaid > 15_000) {
          lastSaid = performance.now();
          say(`  ingested ${done} / ${n} (${formatNumber(done / ((lastSaid - t0) / 1000))}/s)`);
        }
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

async function treeSize(dir: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const sub = await treeSize(p);
      bytes += sub.bytes;
      files += sub.files;
    } else if (e.isFile()) {
      bytes += (await stat(p)).size;
      files++;
    }
  }
  return { bytes, files };
}

function sh(cmd: string, args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.once("error", rej);
    child.once("exit", (code) =>
      code === 0 ? res() : rej(new Error(`${cmd} exited ${code}: ${err.trim()}`)),
    );
  });
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

/**
 * `f(i)` run `reps` times (each followed by `after(i)`, untimed); the median time and the last value.
 * The machine is shared: one run of anything, cp included, can land on a busy second.
 */
async function medianOf<T>(
  reps: number,
  f: (i: number) => Promise<T>,
  after: (i: number) => Promise<void>,
): Promise<{ value: T; seconds: number; all: number[]; median: number }> {
  const all: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < reps; i++) {
    const t = await timed(() => f(i));
    all.push(t.seconds);
    value = t.value;
    await after(i);
  }
  const sorted = [...all].sort((a, b) => a - b);
  const seconds = sorted[Math.floor(sorted.length / 2)] as number;
  return { value: value as T, seconds, all, median: all.indexOf(seconds) };
}

function commit(): string {
  try {
    const sha = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "bench/snapshot"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return "unknown";
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      vectors: { type: "string", default: "200000" },
      batch: { type: "string", default: "1000" },
      "ef-construction": { type: "string", default: String(shardDefaults.efConstruction) },
      reps: { type: "string", default: "3" },
      out: { type: "string", default: join(root, "bench", "results") },
    },
    strict: true,
  });
  const n = Number.parseInt(values.vectors, 10);
  const batch = Number.parseInt(values.batch, 10);
  const efConstruction = Number.parseInt(values["ef-construction"], 10);
  const reps = Number.parseInt(values.reps, 10);
  if (!(n >= 2 && batch >= 1 && batch <= 10_000 && efConstruction >= 1 && reps >= 1 && reps <= 9))
    throw new Error("--vectors must be ≥ 2, --batch 1..10000, --ef-construction ≥ 1, --reps 1..9");
  const machine = machineInfo();
  say(
    `snapshot bench: ${n} × ${DIM} vectors, ${SHARDS} shards, efConstruction ${efConstruction}; load ${machine.loadAverage.map((l) => l.toFixed(2)).join(" / ")}`,
  );

  // Under the OS temp dir, like the versitygw backend: every copy in this run lands on the same disk.
  const work = await mkdtemp(join(tmpdir(), "embedops-bench-snapshot-"));
  const shardArgs = (s: number) => ({
    dataDir: join(work, "src", `shard-${s}`),
    dimension: DIM,
    fingerprint: FP,
    // Checkpoints only at shutdown: periodic ones would compete with the ingest for the two cores.
    extra: [
      "--shard-id",
      `shard-${s}`,
      "--ef-construction",
      String(efConstruction),
      "--checkpoint-interval-seconds",
      "0",
    ],
  });
  const live: ShardProcess[] = [];
  const startAll = async () => {
    const shards: ShardProcess[] = [];
    for (let s = 0; s < SHARDS; s++) {
      const p = await startShardProcess(shardArgs(s));
      live.push(p);
      await p.waitReady();
      shards.push(p);
    }
    return shards;
  };
  const stopAll = async (shards: readonly ShardProcess[]) => {
    for (const p of shards) {
      if (p.proc.exitCode === null && p.proc.signalCode === null) {
        const code = await p.stop();
        if (code !== 0) throw new Error(`shard exited ${code} on SIGTERM`);
      }
    }
  };
  let gw: Versitygw | undefined;
  let s3: S3Store | undefined;
  try {
    let shards = await startAll();
    const ingestSeconds = await ingest(shards, n, batch);
    say(`ingest: ${n} vectors in ${formatNumber(ingestSeconds)} s (${formatNumber(n / ingestSeconds)}/s)`);
    // A clean stop writes the graph checkpoint and folds SQLite's WAL: the data dirs then hold what a
    // snapshot copies (shard.db + a checkpoint), so cp and the snapshot move the same bytes.
    await stopAll(shards);
    shards = await startAll();
    const srcDirs = shards.map((_, s) => join(work, "src", `shard-${s}`));
    const sizes = await Promise.all(srcDirs.map(treeSize));
    const dataBytes = sizes.reduce((a, b) => a + b.bytes, 0);
    const dataFiles = sizes.reduce((a, b) => a + b.files, 0);
    say(`data dirs: ${dataFiles} files, ${formatNumber(dataBytes / 1e6)} MB`);

    // The peer: cp -r of both data directories to a sibling on the same disk, then the same + sync.
    // Each step starts from a synced disk (the restart's checkpoint writes are flushed first).
    await sh("sync", []);
    let cpBytes = 0;
    const cp = await medianOf(
      reps,
      async (i) => {
        await mkdir(join(work, `cp-${i}`));
        await sh("cp", ["-r", ...srcDirs, join(work, `cp-${i}`)]);
      },
      async (i) => {
        cpBytes = (await treeSize(join(work, `cp-${i}`))).bytes;
        await rm(join(work, `cp-${i}`), { recursive: true, force: true });
        await sh("sync", []);
      },
    );
    const cpSync = await medianOf(
      reps,
      async (i) => {
        await mkdir(join(work, `cp-sync-${i}`));
        await sh("cp", ["-r", ...srcDirs, join(work, `cp-sync-${i}`)]);
        await sh("sync", []);
      },
      async (i) => {
        await rm(join(work, `cp-sync-${i}`), { recursive: true, force: true });
        await sh("sync", []);
      },
    );
    const cpT: Timed = { bytes: cpBytes, seconds: cp.seconds };
    say(
      `cp -r: ${formatNumber(cpBytes / 1e6)} MB in ${formatNumber(cp.seconds)} s = ${formatNumber(mbPerSecond(cpT))} MB/s; with sync ${formatNumber(mbPerSecond({ bytes: cpBytes, seconds: cpSync.seconds }))} MB/s`,
    );

    const steps: StepMeasure[] = [];
    const runs: string[] = [
      `cp -r ${cp.all.map((t) => formatNumber(t)).join(" / ")}`,
      `cp -r + sync ${cpSync.all.map((t) => formatNumber(t)).join(" / ")}`,
    ];
    const urls = shards.map((p) => [p.url]);
    const captured = capturingLogger();
    const pair = async (kind: StoreKind, store: SnapshotStore, prefix: string) => {
      const name = (i: number) => `snap-${kind}-${i}`;
      const snapshotPhases: Phase[][] = [];
      const made = await medianOf(
        reps,
        async (i) => {
          captured.take();
          const shardLogsFrom = shards.map((p) => p.logs.length);
          const t0 = performance.now();
          const made = await createSnapshot({
            store,
            prefix,
            index: INDEX,
            snapshot: name(i),
            generation: GENERATION,
            fingerprint: FP,
            shards: urls,
            // As the CLI does: a path store stages on its own filesystem (files renamed in).
            stagingDir: store.stagingDir ?? join(work, `staging-${kind}`),
            log: captured.log,
          });
          const total = (performance.now() - t0) / 1000;
          const lines = captured.take();
          const shardLines = shards.flatMap((p, s) =>
            p.logs.slice(shardLogsFrom[s]).map((l) => ({ msg: String(l.msg), fields: l as LogFields })),
          );
          const copy = maxSeconds(lines, "snapshot shard uploaded", "copyMs");
          const into = maxSeconds(lines, "snapshot shard uploaded", "storeMs");
          snapshotPhases[i] = [
            { name: "shard copy (POST /v1/snapshot)", seconds: copy },
            { name: "of which in the shard", seconds: maxSeconds(shardLines, "snapshot copy written", "ms") },
            {
              name: "of which writers held",
              seconds: maxSeconds(shardLines, "snapshot copy written", "writersHeldMs"),
            },
            { name: `into the ${kind} store`, seconds: into },
            { name: "manifests and the rest", seconds: Math.max(0, total - copy - into) },
          ];
          return made;
        },
        async (i) => {
          if (i < reps - 1) await store.deletePrefix(snapshotRoot(prefix, INDEX, name(i)));
          await sh("sync", []);
        },
      );
      runs.push(`snapshot → ${kind} ${made.all.map((t) => formatNumber(t)).join(" / ")}`);
      const files = made.value.shards.reduce((a, s) => a + s.files.length, 0);
      steps.push({
        step: "snapshot",
        store: kind,
        bytes: made.value.bytes,
        seconds: made.seconds,
        files,
        phases: snapshotPhases[made.median] ?? [],
      });
      say(
        `snapshot → ${kind}: ${formatNumber(made.value.bytes / 1e6)} MB in ${formatNumber(made.seconds)} s = ${formatNumber(mbPerSecond({ bytes: made.value.bytes, seconds: made.seconds }))} MB/s`,
      );
      const target = (i: number) => join(work, `restore-${kind}-${i}`);
      const restorePhases: Phase[][] = [];
      const restored = await medianOf(
        reps,
        async (i) => {
          captured.take();
          const t0 = performance.now();
          const restored = await restoreSnapshot({
            store,
            root: snapshotRoot(prefix, INDEX, name(reps - 1)),
            expectedFingerprint: FP,
            shards: SHARDS,
            replicas: 1,
            targetDir: (s, r) => shardDataDir(target(i), "restored", GENERATION, `shard-${s}`, r),
            stagingDir: join(work, `restore-staging-${kind}`),
            log: captured.log,
          });
          const total = (performance.now() - t0) / 1000;
          const lines = captured.take();
          const download = maxSeconds(lines, "snapshot restored", "downloadMs");
          const layOut = maxSeconds(lines, "snapshot restored", "layOutMs");
          restorePhases[i] = [
            { name: "download + verify (copy, sha256, fsync)", seconds: download },
            { name: "lay out (renames, dir fsyncs)", seconds: layOut },
            { name: "manifests and the rest", seconds: Math.max(0, total - download - layOut) },
          ];
          return restored;
        },
        async (i) => {
          await rm(target(i), { recursive: true, force: true });
          await sh("sync", []);
        },
      );
      runs.push(`restore ← ${kind} ${restored.all.map((t) => formatNumber(t)).join(" / ")}`);
      if (restored.value.documents !== n)
        throw new Error(`restore from ${kind} gave ${restored.value.documents} documents, expected ${n}`);
      steps.push({
        step: "restore",
        store: kind,
        bytes: restored.value.bytes,
        seconds: restored.seconds,
        files,
        phases: restorePhases[restored.median] ?? [],
      });
      say(
        `restore ← ${kind}: ${formatNumber(restored.value.bytes / 1e6)} MB in ${formatNumber(restored.seconds)} s = ${formatNumber(mbPerSecond({ bytes: restored.value.bytes, seconds: restored.seconds }))} MB/s`,
      );
    };

    await mkdir(join(work, "store"));
    await pair("path", new PathStore(join(work, "store")), "");
    await rm(join(work, "store"), { recursive: true, force: true });
    gw = await startVersitygw();
    s3 = new S3Store({ endpoint: gw.endpoint, bucket: gw.bucket, credentials: gw.credentials });
    await pair("s3", s3, "bench");

    const rows = stepRows(steps, cpT);
    const target = pathTarget(rows);
    const report: SnapshotBenchReport = {
      date: new Date().toISOString(),
      commit: commit(),
      machine: { nproc: machine.nproc, cpuModel: machine.cpuModel, loadAverage: machine.loadAverage },
      vectors: n,
      dimension: DIM,
      shards: SHARDS,
      hnsw: { m: shardDefaults.m, efConstruction },
      ingest: { seconds: ingestSeconds, vectorsPerSecond: n / ingestSeconds },
      cp: { ...cpT, mbPerSecond: mbPerSecond(cpT), files: dataFiles },
      cpSync: {
        bytes: cpBytes,
        seconds: cpSync.seconds,
        mbPerSecond: mbPerSecond({ bytes: cpBytes, seconds: cpSync.seconds }),
      },
      steps: rows,
      target,
      notes: [
        `Every figure is the median of ${reps} runs, each started on a synced disk (the machine is shared; ` +
          `one run of anything, cp included, can land on a busy second). Runs in seconds: ${runs.join("; ")}.`,
        "All copies in one run on one disk (the OS temp dir; versitygw's posix backend lives there too). " +
          "MB = 10^6 bytes of shard files (shard.db + the graph checkpoint); cp moves the data dirs, which hold the same files.",
        "cp -r leaves its writes in the page cache; restore fsyncs every file and directory before it reports success " +
          "(the cp -r + sync row is the like-for-like figure for that).",
        "snapshot = each shard copies itself into a staging dir (the database as a file with the WAL folded in and " +
          "writers held; the graph from the last checkpoint, which covers the copy here because the shards were " +
          "restarted and are idle, else a fresh dump): a kernel copy (copy_file_range, as cp does), then the copy " +
          "read back from the page cache and hashed on a worker thread while it is fsynced; then into the store: " +
          "renamed into a path store (staging on its filesystem), uploaded to S3. restore = every file of both shards " +
          "at once into a staging dir (from the path store: the same kernel copy, hashed from the copy beside its " +
          "fsync; from S3: hashed as it streams in), every size and sha256 checked against the manifest, then renamed " +
          "into the new data dirs.",
        "Both shards are copied at once (2 in parallel) by create and by restore, as the CLI does; each shard is its own process.",
        `HNSW efConstruction ${efConstruction} only sets how long the ingest takes (the default is ` +
          `${shardDefaults.efConstruction}); what is copied (rows, vectors, M links per node) does not depend on it.`,
      ],
    };
    say("");
    for (const r of rows)
      say(
        `${r.step.padEnd(8)} ${r.store.padEnd(4)} ${formatNumber(r.mbPerSecond).padStart(7)} MB/s  ${formatRatio(r.vsCp)} × cp`,
      );
    say(`target: ${target.text}`);

    const out = values.out;
    writeJson(join(out, "snapshot.json"), report);
    writeText(join(out, "snapshot.md"), renderMarkdown(report));
    const labels = rows.map((r) => `${r.step} ${r.step === "snapshot" ? "→" : "←"} ${r.store}`);
    const plotErr = plotLines(
      {
        title: `snapshot/restore of ${n.toLocaleString("en-US")} × ${DIM} vectors, 2 shards`,
        footnote: `commit ${report.commit}; ${machine.nproc} cores, load ${machine.loadAverage[0].toFixed(2)}`,
        panels: [
          {
            title: "throughput vs cp -r of the data dirs (same run, same disk)",
            xlabel: "step",
            ylabel: "MB/s",
            xticks: rows.map((_, i) => i),
            series: [
              {
                label: "cp -r",
                x: [0, rows.length - 1],
                y: [report.cp.mbPerSecond, report.cp.mbPerSecond],
                style: "k-",
              },
              {
                label: "50 % of cp (target, path store)",
                x: [0, rows.length - 1],
                y: [report.cp.mbPerSecond / 2, report.cp.mbPerSecond / 2],
                style: "k--",
              },
              {
                label: "cp -r + sync",
                x: [0, rows.length - 1],
                y: [report.cpSync.mbPerSecond, report.cpSync.mbPerSecond],
                style: "k:",
              },
              ...rows.map((r, i) => ({
                label: `${i}: ${labels[i]}`,
                x: [i],
                y: [r.mbPerSecond],
                style: "o",
              })),
            ],
          },
        ],
      },
      join(out, "snapshot.png"),
    );
    if (plotErr) say(`no PNG: ${plotErr}`);
    say(`wrote ${join(out, "snapshot.{json,md,png}")}`);
  } finally {
    s3?.destroy();
    for (const p of live) if (p.proc.exitCode === null && p.proc.signalCode === null) await p.stop();
    await gw?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
