// The generation benchmark's numbers, computed from what the run recorded: query windows, the
// backfill's rate from its own progress record, the ratios and the SLO verdicts. Pure (no I/O), so
// test/unit/bench/generation-report.test.ts covers it.
import type { MachineInfo } from "../lib/report.js";
import { formatNumber, formatRatio, type LatencySummary, summarizeLatencies } from "../lib/stats.js";

/** One query of the steady client: when it was sent (ms since the epoch), how long it took. */
export interface QueryRecord {
  sentAt: number;
  ms: number;
  ok: boolean;
}

export interface QueryWindow {
  label: string;
  /** ms since the epoch. */
  from: number;
  to: number;
  seconds: number;
  /** Queries sent inside the window (open loop: a slow answer does not delay the next query). */
  sent: number;
  failed: number;
  latency: LatencySummary;
}

/** The queries sent within [from, to]; latency over the answered ones, failures counted apart. */
export function queryWindow(
  recs: readonly QueryRecord[],
  label: string,
  from: number,
  to: number,
): QueryWindow {
  const inside = recs.filter((r) => r.sentAt >= from && r.sentAt <= to);
  const ok = inside.filter((r) => r.ok);
  return {
    label,
    from,
    to,
    seconds: (to - from) / 1000,
    sent: inside.length,
    failed: inside.length - ok.length,
    latency: summarizeLatencies(ok.map((r) => r.ms)),
  };
}

/** p99 per bin of `binMs` from `t0`, for the timeline plot; bins without an answered query are left out. */
export function binnedP99(
  recs: readonly QueryRecord[],
  t0: number,
  binMs: number,
): { seconds: number[]; p99Ms: number[] } {
  const bins = new Map<number, number[]>();
  for (const r of recs) {
    if (!r.ok || r.sentAt < t0) continue;
    const b = Math.floor((r.sentAt - t0) / binMs);
    const list = bins.get(b);
    if (list) list.push(r.ms);
    else bins.set(b, [r.ms]);
  }
  const keys = [...bins.keys()].sort((a, b) => a - b);
  return {
    seconds: keys.map((b) => ((b + 0.5) * binMs) / 1000),
    p99Ms: keys.map((b) => summarizeLatencies(bins.get(b) ?? []).p99Ms),
  };
}

/** The fields of the backfill record (src/generation/progress.ts) the rate is computed from. */
export interface RecordTimes {
  done: number;
  startedAt: string;
  updatedAt: string;
  finished: boolean;
}

export interface BackfillRate {
  done: number;
  finished: boolean;
  /** From the record's startedAt to its last update: the copy loop alone, process start excluded. */
  loopSeconds: number;
  docsPerSecond: number;
  /** From spawning `embedops backfill` to its exit: includes node start-up and the plan's checks. */
  wallSeconds: number;
  wallDocsPerSecond: number;
}

export function backfillRate(record: RecordTimes, wallSeconds: number): BackfillRate {
  const loopSeconds = (Date.parse(record.updatedAt) - Date.parse(record.startedAt)) / 1000;
  const per = (s: number) => (s > 0 && Number.isFinite(s) ? record.done / s : Number.NaN);
  return {
    done: record.done,
    finished: record.finished,
    loopSeconds,
    docsPerSecond: per(loopSeconds),
    wallSeconds,
    wallDocsPerSecond: per(wallSeconds),
  };
}

/** A rate change of the latency guard, from the backfill's log. */
export interface GuardDecision {
  time: string;
  action: "decrease" | "increase";
  from: number;
  to: number;
  reason: string;
}

/** The latency guard's decisions in the backfill's JSON log lines (other lines ignored). */
export function guardDecisions(logText: string): GuardDecision[] {
  const out: GuardDecision[] = [];
  for (const line of logText.split("\n")) {
    if (!line.startsWith("{")) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const action =
      entry["msg"] === "backfill slows down: the stable's latency is at risk"
        ? "decrease"
        : entry["msg"] === "backfill speeds up"
          ? "increase"
          : undefined;
    if (action === undefined) continue;
    out.push({
      time: String(entry["time"]),
      action,
      from: Number(entry["from"]),
      to: Number(entry["to"]),
      reason: String(entry["reason"] ?? ""),
    });
  }
  return out;
}

export interface SloVerdict {
  p99Ms: number;
  sloMs: number;
  held: boolean;
  /** e.g. "p99 42.1 ms ≤ 100 ms: held". */
  text: string;
}

/** Held when the window's p99 is at most the SLO and no query failed; not measured when it has no answers. */
export function sloVerdict(w: QueryWindow, sloMs: number): SloVerdict {
  const p99 = w.latency.p99Ms;
  if (!Number.isFinite(p99))
    return { p99Ms: p99, sloMs, held: false, text: "no answered queries: not measured" };
  const held = p99 <= sloMs && w.failed === 0;
  const failed = w.failed > 0 ? `, ${w.failed} of ${w.sent} failed` : "";
  return {
    p99Ms: p99,
    sloMs,
    held,
    text: `p99 ${formatNumber(p99)} ms ${p99 <= sloMs ? "≤" : ">"} ${sloMs} ms${failed}: ${held ? "held" : "broken"}`,
  };
}

export interface EncoderCapacity {
  docs: number;
  batchSize: number;
  requests: number;
  seconds: number;
  docsPerSecond: number;
}

export interface BackfillCase {
  label: string;
  maxDocumentsPerSecond: number;
  latencyGuard?: { metricsUrl: string; maxP99Ms: number; intervalSeconds: number };
  /** Whether steady queries ran meanwhile. */
  withQueries: boolean;
  exitCode: number | null;
  /** Stopped by the bench (SIGTERM) at its time limit, not finished. */
  stoppedAtLimit: boolean;
  rate: BackfillRate;
  guard: GuardDecision[];
  window?: QueryWindow;
  slo?: SloVerdict;
}

export interface GenerationBenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { start: MachineInfo; loadAverageEnd: [number, number, number] };
  versions: Record<string, string>;
  settings: {
    docs: number;
    batchSize: number;
    queryRatePerSecond: number;
    k: number;
    sloP99Ms: number;
    throttleDocsPerSecond: number;
    guardIntervalSeconds: number;
    beforeSeconds: number;
    afterSeconds: number;
    throttledMaxSeconds: number;
    encoderThreads: number;
    stable: { model: string; fingerprint: string; shards: number };
    candidate: { model: string; fingerprint: string; shards: number };
  };
  stableEncoderFill: EncoderCapacity;
  encoderCapacity: EncoderCapacity;
  backfills: { quiet: BackfillCase; unthrottled: BackfillCase; throttled: BackfillCase };
  windows: { before: QueryWindow; after: QueryWindow };
  ratios: Ratios;
  timeline: { t0: number; binSeconds: number; phases: { label: string; from: number; to: number }[] };
  notes: string[];
}

export interface Ratios {
  /** Quiet backfill docs/s over the candidate encoder's docs/s alone. */
  backfillOverEncoder: number;
  /** The same with the steady queries running (the unthrottled case). */
  loadedBackfillOverEncoder: number;
  /** p99 during the unthrottled backfill / before it. */
  p99UnthrottledOverBefore: number;
  /** p99 during the throttled (and guarded) backfill / before it. */
  p99ThrottledOverBefore: number;
  /** p99 after both / before: how far the machine drifted over the run. */
  p99AfterOverBefore: number;
}

const over = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;

export function ratiosOf(
  capacity: EncoderCapacity,
  backfills: GenerationBenchReport["backfills"],
  windows: GenerationBenchReport["windows"],
): Ratios {
  const before = windows.before.latency.p99Ms;
  return {
    backfillOverEncoder: over(backfills.quiet.rate.docsPerSecond, capacity.docsPerSecond),
    loadedBackfillOverEncoder: over(backfills.unthrottled.rate.docsPerSecond, capacity.docsPerSecond),
    p99UnthrottledOverBefore: over(backfills.unthrottled.window?.latency.p99Ms ?? Number.NaN, before),
    p99ThrottledOverBefore: over(backfills.throttled.window?.latency.p99Ms ?? Number.NaN, before),
    p99AfterOverBefore: over(windows.after.latency.p99Ms, before),
  };
}

/** The lines printed at the end of a run. */
export function summaryLines(r: GenerationBenchReport): string[] {
  const { quiet, unthrottled, throttled } = r.backfills;
  const cap = r.encoderCapacity;
  const before = r.windows.before;
  const p99 = (w: QueryWindow | undefined) => `${formatNumber(w?.latency.p99Ms)} ms`;
  return [
    `backfill ${r.settings.stable.model} -> ${r.settings.candidate.model}, ${quiet.rate.done} documents, batch ${r.settings.batchSize}:`,
    `  unthrottled, no queries: ${formatNumber(quiet.rate.docsPerSecond)} docs/s / candidate encoder alone ${formatNumber(cap.docsPerSecond)} docs/s = ${formatRatio(r.ratios.backfillOverEncoder)}`,
    `  unthrottled, ${r.settings.queryRatePerSecond} queries/s: ${formatNumber(unthrottled.rate.docsPerSecond)} docs/s (${formatRatio(r.ratios.loadedBackfillOverEncoder)} of the encoder alone)`,
    `  throttled to ${r.settings.throttleDocsPerSecond} docs/s + latency guard: ${formatNumber(throttled.rate.docsPerSecond)} docs/s, ${throttled.rate.done} documents${throttled.stoppedAtLimit ? ` (stopped at ${r.settings.throttledMaxSeconds} s)` : ""}, ${throttled.guard.length} guard decision(s)`,
    `stable query p99 through the router (${r.settings.queryRatePerSecond} queries/s, SLO p99 ≤ ${r.settings.sloP99Ms} ms):`,
    `  before: ${p99(before)} (${before.sent} queries, ${before.failed} failed)`,
    `  during the unthrottled backfill: ${p99(unthrottled.window)} = ${formatRatio(r.ratios.p99UnthrottledOverBefore)} × before; SLO ${unthrottled.slo?.text ?? "n/a"}`,
    `  during the throttled backfill: ${p99(throttled.window)} = ${formatRatio(r.ratios.p99ThrottledOverBefore)} × before; SLO ${throttled.slo?.text ?? "n/a"}`,
    `  after: ${p99(r.windows.after)} = ${formatRatio(r.ratios.p99AfterOverBefore)} × before`,
  ];
}
