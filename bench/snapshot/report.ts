// The pure part of `npm run bench:snapshot`: throughput of each snapshot/restore step, its ratio to
// `cp -r` of the same shard data directories measured in the same run, the target, markdown.
import { markdownTable } from "../lib/report.js";
import { formatNumber, formatRatio } from "../lib/stats.js";

/** Issue 10: snapshot and restore on the path store reach at least half of cp's throughput. */
export const PATH_TARGET_RATIO = 0.5;

export type Step = "snapshot" | "restore";
export type StoreKind = "path" | "s3";

export interface Timed {
  bytes: number;
  seconds: number;
}

/** A part of one step's run, from the timings snapshot create and restore log. */
export interface Phase {
  name: string;
  seconds: number;
}

export interface StepMeasure extends Timed {
  step: Step;
  store: StoreKind;
  /** Files moved (both shards). */
  files: number;
  /** Where the median run's time went, in order. */
  phases?: Phase[];
}

export interface StepRow extends StepMeasure {
  mbPerSecond: number;
  /** This step's MB/s over cp's MB/s. */
  vsCp: number;
}

export interface TargetVerdict {
  snapshotRatio: number;
  restoreRatio: number;
  target: number;
  met: boolean;
  text: string;
}

/** Decimal megabytes per second; NaN for a zero or negative duration. */
export function mbPerSecond(t: Timed): number {
  return t.seconds > 0 ? t.bytes / 1e6 / t.seconds : Number.NaN;
}

export function stepRows(steps: readonly StepMeasure[], cp: Timed): StepRow[] {
  const peer = mbPerSecond(cp);
  return steps.map((s) => {
    const mb = mbPerSecond(s);
    return { ...s, mbPerSecond: mb, vsCp: mb / peer };
  });
}

export function pathTarget(rows: readonly StepRow[], target = PATH_TARGET_RATIO): TargetVerdict {
  const ratio = (step: Step) => rows.find((r) => r.step === step && r.store === "path")?.vsCp ?? Number.NaN;
  const snapshotRatio = ratio("snapshot");
  const restoreRatio = ratio("restore");
  const met = snapshotRatio >= target && restoreRatio >= target;
  const pct = (r: number) => (Number.isFinite(r) ? `${Math.round(r * 100)} %` : "n/a");
  const miss = [
    snapshotRatio >= target ? undefined : `snapshot ${pct(snapshotRatio)}`,
    restoreRatio >= target ? undefined : `restore ${pct(restoreRatio)}`,
  ].filter((x) => x !== undefined);
  const text = met
    ? `met: snapshot ${pct(snapshotRatio)} and restore ${pct(restoreRatio)} of cp's throughput (target ≥ ${pct(target)})`
    : `not met: ${miss.join(", ")} of cp's throughput, below ${pct(target)}`;
  return { snapshotRatio, restoreRatio, target, met, text };
}

export interface SnapshotBenchReport {
  date: string;
  commit: string;
  machine: { nproc: number; cpuModel: string; loadAverage: [number, number, number] };
  vectors: number;
  dimension: number;
  shards: number;
  hnsw: { m: number; efConstruction: number };
  ingest: { seconds: number; vectorsPerSecond: number };
  /** cp -r of both shard data directories to a sibling directory on the same disk. */
  cp: Timed & { mbPerSecond: number; files: number };
  /** The same cp followed by sync(1): what the data costs when it must reach the disk, as restore's does. */
  cpSync: Timed & { mbPerSecond: number };
  steps: StepRow[];
  target: TargetVerdict;
  notes: string[];
}

const mb = (bytes: number) => formatNumber(bytes / 1e6);

/** "snapshot → path, 2.50 s: shard copy 1.90 s, into the store 0.10 s" for a step with phases. */
export function phaseLine(s: StepMeasure): string | undefined {
  if (!s.phases || s.phases.length === 0) return undefined;
  const parts = s.phases.map((p) => `${p.name} ${formatNumber(p.seconds)} s`);
  return `${s.step} ${s.step === "snapshot" ? "→" : "←"} ${s.store}, ${formatNumber(s.seconds)} s: ${parts.join(", ")}`;
}

export function renderMarkdown(r: SnapshotBenchReport): string {
  const rows = [
    ["cp -r (peer)", mb(r.cp.bytes), formatNumber(r.cp.seconds), formatNumber(r.cp.mbPerSecond), "1.00"],
    [
      "cp -r + sync",
      mb(r.cpSync.bytes),
      formatNumber(r.cpSync.seconds),
      formatNumber(r.cpSync.mbPerSecond),
      formatRatio(r.cpSync.mbPerSecond / r.cp.mbPerSecond),
    ],
    ...r.steps.map((s) => [
      `${s.step} ${s.step === "snapshot" ? "→" : "←"} ${s.store}`,
      mb(s.bytes),
      formatNumber(s.seconds),
      formatNumber(s.mbPerSecond),
      formatRatio(s.vsCp),
    ]),
  ];
  return [
    "# Snapshot and restore benchmark",
    "",
    `${r.date}, commit ${r.commit}; ${r.machine.nproc} cores (${r.machine.cpuModel}), load ` +
      `${r.machine.loadAverage.map((v) => v.toFixed(2)).join(" / ")} at the start.`,
    "",
    `${r.vectors.toLocaleString("en-US")} random unit vectors × ${r.dimension} in ${r.shards} real shard ` +
      `processes (HNSW m=${r.hnsw.m}, efConstruction=${r.hnsw.efConstruction}), written through ` +
      `POST /v1/points in ${formatNumber(r.ingest.seconds)} s (${formatNumber(r.ingest.vectorsPerSecond)} vectors/s).`,
    "",
    markdownTable(["step", "MB", "seconds", "MB/s", "× cp"], rows),
    "",
    `**Target (issue 10): path-store snapshot and restore ≥ ${Math.round(r.target.target * 100)} % of cp's ` +
      `throughput — ${r.target.text}.**`,
    "",
    ...phasesSection(r.steps),
    ...r.notes.map((n) => `- ${n}`),
    "",
    "![snapshot](snapshot.png)",
  ].join("\n");
}

function phasesSection(steps: readonly StepMeasure[]): string[] {
  const lines = steps.map(phaseLine).filter((l) => l !== undefined);
  if (lines.length === 0) return [];
  return ["Where the time goes (the median run of each step):", "", ...lines.map((l) => `- ${l}`), ""];
}
