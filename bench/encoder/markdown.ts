// bench/results/encoder.md from the report: targets first (met or missed, plainly), then the
// numbers, then how they were taken and what could not be measured.
import { loadAverageText, markdownTable } from "../lib/report.js";
import { formatNumber, formatRatio } from "../lib/stats.js";
import type { InputKind } from "./inputs.js";
import { type EncoderBenchReport, SYSTEM_LABELS, type SystemId } from "./main.js";

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function renderMarkdown(r: EncoderBenchReport): string {
  const m = r.machine.start;
  const out: string[] = [];
  out.push("# Encoder benchmark (`npm run bench:encoder`)");
  out.push("");
  out.push(
    `${r.model.name} (${r.model.dimension}-d, fingerprint \`${r.model.fingerprint.slice(0, 16)}…\`), ${r.threads} onnxruntime threads ` +
      `for every system, run ${r.startedAt} → ${r.finishedAt}.`,
  );
  out.push("");
  out.push(
    `Machine: ${m.nproc} CPUs, ${m.cpuModel} (${m.cpuFlags.join(", ") || "flags unknown"}), ${m.memoryGiB} GiB, ${m.platform}. ` +
      `**Load average ${loadAverageText(m.loadAverage)} at start, ${loadAverageText(r.machine.loadAverageEnd)} at the end** ` +
      `(1/5/15 min) — the machine is shared with other work, so every number below is taken under that load; ` +
      "the systems are measured interleaved (all four at one concurrency, then the next) so drift hits them alike.",
  );
  out.push("");
  out.push("## Targets (embeddings/s at 64 concurrent clients)");
  out.push("");
  const at64 = r.ratios.filter((x) => x.concurrency === 64);
  const targetRows = at64.map((x) => [
    x.name,
    x.kind,
    Number.isFinite(x.ratio) ? formatRatio(x.ratio) : "n/a",
    `≥ ${formatRatio(x.target)}`,
    Number.isFinite(x.ratio) ? (x.met ? "**met**" : "**missed**") : "not measured",
  ]);
  out.push(markdownTable(["ratio", "inputs", "measured", "target", "verdict"], targetRows));
  out.push("");
  out.push(
    "(a) = onnxruntime-node in-process at its best batch size; (b) = our encoder server over HTTP, one input per " +
      "request; (c) = @huggingface/transformers in-process at its best batch size; (d) = Infinity over HTTP, one input per request.",
  );
  out.push("");
  const other = r.ratios.filter((x) => x.concurrency !== 64 && Number.isFinite(x.ratio));
  if (other.length > 0) {
    out.push(
      `At lower concurrency (for information; the targets are set at 64): ${other
        .map((x) => `${x.name} ${x.kind} c=${x.concurrency}: ${formatRatio(x.ratio)}`)
        .join("; ")}.`,
    );
    out.push("");
  }

  for (const kind of ["query", "passage"] as InputKind[]) {
    const inp = r.inputs[kind];
    out.push(
      `## ${kind === "query" ? "Queries" : "Passages"}: ${inp.count} texts, ${inp.minTokens}–${inp.maxTokens} tokens (mean ${inp.meanTokens.toFixed(1)})`,
    );
    out.push("");
    out.push(`Example: “${inp.example.length > 160 ? `${inp.example.slice(0, 160)}…` : inp.example}”`);
    out.push("");
    const rows = r.cells
      .filter((c) => c.kind === kind)
      .sort((a, b) => a.concurrency - b.concurrency || order(a.system) - order(b.system))
      .map((c) => [
        SYSTEM_LABELS[c.system],
        String(c.concurrency),
        String(c.batch),
        formatNumber(c.embeddingsPerSec),
        formatNumber(c.tokensPerSec),
        formatNumber(c.latency.p50Ms),
        formatNumber(c.latency.p95Ms),
        formatNumber(c.latency.p99Ms),
        `${c.requests}${c.errors ? ` (${c.errors} errors)` : ""}`,
      ]);
    out.push(
      markdownTable(
        ["system", "clients", "batch", "embeddings/s", "tokens/s", "p50 ms", "p95 ms", "p99 ms", "requests"],
        rows,
      ),
    );
    out.push("");
  }
  out.push(
    "`batch`: the engine batch for in-process systems (the best of the sweep, capped by the number of clients), " +
      "inputs per HTTP request for the servers. Latency is per request for the servers; for in-process systems it is " +
      "per caller in a closed loop over an ideal FIFO batcher (wait for a batch slot + the batch), so it is comparable. " +
      "tokens/s counts the model's tokens (special tokens included, padding excluded). ",
  );
  out.push("");
  out.push("![throughput vs concurrency](encoder.png)");
  out.push("");

  out.push("## Batch-size sweep of the in-process systems (embeddings/s, full batches back to back)");
  out.push("");
  const batches = r.settings.sweepBatches;
  const sweepRows: string[][] = [];
  for (const sys of ["onnxruntime", "transformers.js"] as const) {
    for (const kind of ["query", "passage"] as InputKind[]) {
      const pts = r.sweeps.filter((s) => s.system === sys && s.kind === kind);
      sweepRows.push([
        SYSTEM_LABELS[sys],
        kind,
        ...batches.map((b) => {
          const v = pts.find((p) => p.batch === b)?.embeddingsPerSec;
          const best = r.bestBatch[sys]?.[kind] === b;
          return best ? `**${formatNumber(v)}**` : formatNumber(v);
        }),
      ]);
    }
  }
  out.push(markdownTable(["system", "inputs", ...batches.map((b) => `batch ${b}`)], sweepRows));
  out.push("");

  if (r.profile) {
    const p = r.profile;
    out.push(`## Profile: embedops encoder under ${p.concurrency} clients, ${p.kind} inputs`);
    out.push("");
    out.push(
      `\`node --cpu-prof\` on the server process (a separate run after the table, ${formatNumber(p.embeddingsPerSec)} embeddings/s ` +
        `while profiled); ${p.summary.samples} samples over ${formatNumber(p.summary.totalMs / 1000)} s of process life ` +
        "(model load and warm-up included).",
    );
    if (p.batches) {
      out.push(
        `Server batches since start: ${p.batches.batches}, mean ${p.batches.meanInputs.toFixed(1)} inputs and ` +
          `${p.batches.meanPaddedTokens.toFixed(0)} padded tokens per batch, ${formatNumber(p.batches.inferenceSeconds)} s inside the engine.`,
      );
    }
    out.push("");
    out.push("Self time by module:");
    out.push("");
    out.push(
      markdownTable(
        ["module", "share", "ms"],
        p.summary.byModule.map((f) => [f.name, pct(f.share), formatNumber(f.ms)]),
      ),
    );
    out.push("");
    out.push("Top functions by self time:");
    out.push("");
    out.push(
      markdownTable(
        ["function", "share", "ms"],
        p.summary.topFunctions.map((f) => [`\`${f.name}\``, pct(f.share), formatNumber(f.ms)]),
      ),
    );
    out.push("");
    const share = (pred: (name: string) => boolean) =>
      p.summary.byModule.filter((f) => pred(f.name)).reduce((a, f) => a + f.share, 0);
    const idle = share((n) => n === "(idle)");
    const gc = share((n) => n === "(garbage collector)");
    const ort = share((n) => n.includes("onnxruntime"));
    const serving = share(
      (n) => n === "node internals" || n === "express" || n.startsWith("src/") || n === "body-parser",
    );
    out.push(
      `Main thread, in short: ${pct(idle)} idle (waiting for I/O or for the inference worker thread), ` +
        `${pct(ort)} in onnxruntime-node's JS binding, ${pct(serving)} in the serving path (node http internals, ` +
        `express, our routes, batching, JSON and pooling), ${pct(gc)} garbage collection.`,
    );
    out.push("");
  }

  out.push("## Agreement (same model, same vectors)");
  out.push("");
  out.push(
    `Minimum cosine similarity to the engine's vectors over 4 queries + 4 passages: ${(
      Object.entries(r.agreement) as [SystemId, number][]
    )
      .map(([s, v]) => `${s} ${v.toFixed(6)}`)
      .join(", ")}.`,
  );
  out.push("");
  const missing = Object.entries(r.unavailable);
  if (missing.length > 0) {
    out.push("## Not measured");
    out.push("");
    for (const [s, why] of missing)
      out.push(`- ${s}: \`${why.replace(/`/g, "'").replace(/\n/g, " ⏎ ").slice(0, 1500)}\``);
    out.push("");
  }
  out.push("## How it was measured");
  out.push("");
  out.push(
    [
      `- Every cell runs ${r.settings.cellSeconds} s after a short warm-up, in ${r.settings.rounds} interleaved rounds; the table keeps each cell's best round (other work on the machine only slows a cell). The batch sweep runs ${r.settings.sweepSeconds} s per batch size.`,
      "- Inputs: WordNet usage examples (Debian wordnet-base). Queries are single sentences; passages join consecutive examples. Token counts use the engine's tokenizer.",
      "- (a): `src/encoder/onnx-engine.ts` — tokenize, onnxruntime-node `InferenceSession.run` in the engine's worker thread (intra-op threads 2, inter-op 1, graph optimisation all), mean pooling, L2 — called by a FIFO of N callers with no HTTP.",
      "- (b): `node bin/embedops.mjs encoder --threads 2` in its own process; N keep-alive clients (node:http) in the bench process, each POSTing one text to /v1/embeddings with `encoding_format: base64` and parsing the answer. (b') sends 32 texts per request.",
      "- (c): `pipeline('feature-extraction')` from @huggingface/transformers on a directory of symlinks to the same model.onnx and tokenizer (onnx/model.onnx layout + config.json), fp32, the same session options, `{ pooling: 'mean', normalize: true }`.",
      "- (d): `infinity_emb v2 --engine optimum --device cpu --batch-size 32 --pooling-method mean --no-vector-disk-cache --no-model-warmup` on a symlink directory of the same model.onnx; OMP_NUM_THREADS=2 (onnxruntime's default intra-op pool is the core count, 2 here). Clients as in (b), POST /embeddings.",
      "- The clients run on the same 2 cores as the servers, as they would on a loaded node; that costs (b) and (d) alike and (a)/(c) nothing.",
    ].join("\n"),
  );
  out.push("");
  out.push("## Versions");
  out.push("");
  out.push(
    markdownTable(
      ["component", "version"],
      Object.entries(r.versions).map(([k, v]) => [k, v]),
    ),
  );
  out.push("");
  if (r.notes.length > 0) {
    out.push("## Notes");
    out.push("");
    for (const n of r.notes) out.push(`- ${n}`);
    out.push("");
  }
  return out.join("\n");
}

function order(s: SystemId): number {
  return ["onnxruntime", "embedops", "embedops-batch32", "transformers.js", "infinity"].indexOf(s);
}
