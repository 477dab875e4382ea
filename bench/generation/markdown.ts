// bench/results/generation.md and the PNG's spec, from the report alone (pure).
import type { PlotSpec } from "../lib/plot.js";
import { loadAverageText, markdownTable } from "../lib/report.js";
import { formatNumber, formatRatio } from "../lib/stats.js";
import { type BackfillCase, binnedP99, type GenerationBenchReport, type QueryRecord } from "./report.js";

const ms = (v: number | undefined) => formatNumber(v);

export function plotSpec(r: GenerationBenchReport, recs: readonly QueryRecord[]): PlotSpec {
  const { quiet, unthrottled, throttled } = r.backfills;
  const xs = [1, 2, 3, 4];
  const { t0, binSeconds, phases } = r.timeline;
  const bins = binnedP99(recs, t0, binSeconds * 1000);
  const end = Math.max(...phases.map((p) => (p.to - t0) / 1000), 1);
  const phaseSeries = phases.map((p, i) => {
    const lo = (p.from - t0) / 1000;
    const hi = (p.to - t0) / 1000;
    const x: number[] = [];
    const y: number[] = [];
    bins.seconds.forEach((s, j) => {
      if (s >= lo && s <= hi) {
        x.push(s);
        y.push(bins.p99Ms[j] as number);
      }
    });
    return { label: p.label, x, y, style: ["o-", "s-", "^-", "d-"][i % 4] };
  });
  return {
    title: `index generation N (${r.settings.stable.model}) -> N+1 (${r.settings.candidate.model}), ${r.settings.docs} documents, ${r.machine.start.nproc} × ${r.machine.start.cpuModel}`,
    footnote: `load average ${loadAverageText(r.machine.start.loadAverage)} at start; ${r.startedAt}`,
    panels: [
      {
        title: `documents/s, batch ${r.settings.batchSize}`,
        xlabel: "1 candidate encoder alone, 2 backfill (no queries), 3 backfill + queries, 4 throttled",
        ylabel: "documents/s",
        xticks: xs,
        series: [
          {
            label: "measured",
            x: xs,
            y: [
              r.encoderCapacity.docsPerSecond,
              ...[quiet, unthrottled, throttled].map((c) => c.rate.docsPerSecond),
            ],
            style: "o",
          },
          {
            label: `throttle cap ${r.settings.throttleDocsPerSecond} docs/s`,
            x: [3.5, 4.5],
            y: [r.settings.throttleDocsPerSecond, r.settings.throttleDocsPerSecond],
            style: "k--",
          },
        ],
      },
      {
        title: `stable query p99 per ${binSeconds} s (router, ${r.settings.queryRatePerSecond} queries/s)`,
        xlabel: "seconds since the steady client started",
        ylabel: "ms",
        series: [
          ...phaseSeries,
          {
            label: `SLO p99 ${r.settings.sloP99Ms} ms`,
            x: [0, end],
            y: [r.settings.sloP99Ms, r.settings.sloP99Ms],
            style: "k--",
          },
        ],
      },
    ],
  };
}

function backfillRow(c: BackfillCase, capacity: number): string[] {
  return [
    c.label,
    c.withQueries ? "yes" : "no",
    c.maxDocumentsPerSecond >= 100_000 ? "none" : `${c.maxDocumentsPerSecond}/s`,
    c.latencyGuard ? `p99 ≤ ${c.latencyGuard.maxP99Ms} ms, ${c.latencyGuard.intervalSeconds} s` : "–",
    `${c.rate.done}${c.rate.finished ? "" : c.stoppedAtLimit ? " (stopped at the limit)" : " (not finished)"}`,
    `${c.rate.loopSeconds.toFixed(1)} s`,
    formatNumber(c.rate.docsPerSecond),
    formatRatio(c.rate.docsPerSecond / capacity),
    `${c.rate.wallSeconds.toFixed(1)} s`,
    formatNumber(c.rate.wallDocsPerSecond),
  ];
}

export function renderMarkdown(r: GenerationBenchReport): string {
  const { quiet, unthrottled, throttled } = r.backfills;
  const s = r.settings;
  const cap = r.encoderCapacity;
  const windows = [
    { w: r.windows.before, slo: undefined, ratio: 1 },
    { w: unthrottled.window, slo: unthrottled.slo, ratio: r.ratios.p99UnthrottledOverBefore },
    { w: throttled.window, slo: throttled.slo, ratio: r.ratios.p99ThrottledOverBefore },
    { w: r.windows.after, slo: undefined, ratio: r.ratios.p99AfterOverBefore },
  ];
  const latencyRows = windows.flatMap(({ w, slo, ratio }) =>
    w === undefined
      ? []
      : [
          [
            w.label,
            w.seconds.toFixed(1),
            String(w.sent),
            String(w.failed),
            ms(w.latency.p50Ms),
            ms(w.latency.p95Ms),
            ms(w.latency.p99Ms),
            ms(w.latency.maxMs),
            formatRatio(ratio),
            slo === undefined ? "–" : slo.held ? "held" : "broken",
          ],
        ],
  );
  const guardLines =
    throttled.guard.length === 0
      ? [
          `The latency guard changed no rate: every ${s.guardIntervalSeconds} s window of the stable encoder's p99 stayed at or below 80 % of ${s.sloP99Ms} ms, or the rate already was the cap.`,
        ]
      : [
          markdownTable(
            ["time", "action", "from docs/s", "to docs/s", "reason"],
            throttled.guard.map((g) => [
              g.time,
              g.action,
              formatNumber(g.from),
              formatNumber(g.to),
              g.reason,
            ]),
          ),
        ];
  return [
    "# Rollouts II: backfilling index generation N+1 beside a serving generation N",
    "",
    `\`npm run bench:generation\`, ${r.startedAt} → ${r.finishedAt}. ${r.machine.start.nproc} × ${r.machine.start.cpuModel}, ` +
      `load average ${loadAverageText(r.machine.start.loadAverage)} at start, ${loadAverageText(r.machine.loadAverageEnd)} at the end; ` +
      `node ${r.versions["node"]}, embedops ${r.versions["embedops"]}.`,
    "",
    `Real processes on one machine: generation N is ${s.stable.model} (fingerprint ${s.stable.fingerprint.slice(0, 12)}…, ` +
      `its own encoder, ${s.stable.shards} shards, a router serving it) holding ${s.docs} WordNet usage examples; generation N+1 ` +
      `is ${s.candidate.model} (fingerprint ${s.candidate.fingerprint.slice(0, 12)}…, its own encoder, ${s.candidate.shards} fresh shards ` +
      `per backfill). Each encoder runs ${s.encoderThreads} ONNX threads. \`embedops backfill --plan FILE\` re-embeds N's stored ` +
      `text with N+1's encoder, batch ${s.batchSize}, writeQuorum all. A steady client sends ${s.queryRatePerSecond} queries/s (open loop, k ${s.k}) ` +
      `to the router throughout the query windows.`,
    "",
    "## Backfill throughput against the candidate encoder alone",
    "",
    `The candidate encoder alone: ${cap.docs} documents as ${cap.requests} /v1/embeddings requests of ${cap.batchSize} ` +
      `(one in flight, as the backfill sends them), with no query and no backfill of this run going: **${formatNumber(cap.docsPerSecond)} docs/s** ` +
      `(${cap.seconds.toFixed(1)} s). For scale, N's encoder embedded the same documents at ${formatNumber(r.stableEncoderFill.docsPerSecond)} docs/s.`,
    "",
    markdownTable(
      [
        "backfill",
        "queries meanwhile",
        "maxDocumentsPerSecond",
        "latencyGuard",
        "documents",
        "copy loop",
        "docs/s",
        "/ encoder alone",
        "wall (process)",
        "wall docs/s",
      ],
      [quiet, unthrottled, throttled].map((c) => backfillRow(c, cap.docsPerSecond)),
    ),
    "",
    `**Backfill / encoder alone: ${formatRatio(r.ratios.backfillOverEncoder)}** (${formatNumber(quiet.rate.docsPerSecond)} / ${formatNumber(cap.docsPerSecond)} docs/s, both without queries; other work on the machine shares the cores with both, see the load averages). ` +
      `"copy loop" is the progress record's startedAt → last update (the rate \`embedops backfill\` itself reports); ` +
      `"wall" adds node's start-up and the plan's checks of the encoder and the shards. Between batches the loop scans N, ` +
      `writes N+1 and saves its record, with the encoder idle meanwhile: that is what separates the two rates.`,
    "",
    "## The stable generation's query p99 before and during the backfill",
    "",
    `SLO: p99 ≤ **${s.sloP99Ms} ms** through the router, no failed query (the router's own 2 s encoder timeout included). ` +
      `Windows: ${s.beforeSeconds} s before any backfill; each backfill's copy loop (record startedAt → last update); ` +
      `${s.afterSeconds} s after both, to show drift of the machine over the run. The throttled backfill runs with ` +
      `maxDocumentsPerSecond ${s.throttleDocsPerSecond} and latencyGuard {metricsUrl: N's encoder /metrics, maxP99Ms ${s.sloP99Ms}, ` +
      `intervalSeconds ${s.guardIntervalSeconds}}${throttled.stoppedAtLimit ? `, stopped (SIGTERM) after ${s.throttledMaxSeconds} s` : ""}.`,
    "",
    markdownTable(
      ["window", "s", "queries", "failed", "p50 ms", "p95 ms", "p99 ms", "max ms", "p99 / before", "SLO"],
      latencyRows,
    ),
    "",
    `- Unthrottled: ${unthrottled.slo?.text ?? "n/a"}; p99 ${formatRatio(r.ratios.p99UnthrottledOverBefore)} × before.`,
    `- Throttled to ${s.throttleDocsPerSecond} docs/s with the guard: ${throttled.slo?.text ?? "n/a"}; p99 ${formatRatio(r.ratios.p99ThrottledOverBefore)} × before.`,
    `- A window's p99 rests on its last few queries (${unthrottled.window?.sent ?? 0} queries in the unthrottled one): read it as the tail, not a precise percentile.`,
    "",
    "### The latency guard's decisions (throttled run)",
    "",
    ...guardLines,
    "",
    ...(r.notes.length > 0 ? ["## Notes", "", ...r.notes.map((n) => `- ${n}`), ""] : []),
    "![throughput; stable query p99 over time](generation.png)",
    "",
  ].join("\n");
}
