// `embedops ingest FILE.jsonl`: send documents to an index's router in batches, with a progress bar.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { countDocuments, type DocumentLine, readDocumentBatches } from "../local/jsonl-documents.js";
import { formatProgress } from "../local/progress.js";
import { defaultDataDir, resolveRouterUrl } from "../local/serve-state.js";
import { pick, pickInt, pickString, UsageError } from "./options.js";

const help = `usage: embedops ingest FILE.jsonl [--index NAME] [--router URL] [--batch 128] [--concurrency 2]

Each line of FILE is {"id": "...", "text": "...", "metadata": {...}}. Without --router, the router of
the "embedops serve" running in --data-dir (default ${defaultDataDir}) is used.`;

async function postBatch(router: string, docs: DocumentLine[], apiKey: string | undefined): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${router}/v1/documents`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      },
      body: JSON.stringify({ documents: docs }),
      signal: AbortSignal.timeout(120_000),
    });
    if (res.ok) {
      await res.arrayBuffer();
      return;
    }
    const body = await res.text();
    // Overload and brief unavailability (a restarting shard) are worth retrying; anything else is the data's fault.
    if ((res.status === 429 || res.status === 503) && attempt < 8) {
      const retryAfter = Number(res.headers.get("retry-after"));
      await new Promise((r) =>
        setTimeout(r, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 250 * 2 ** attempt),
      );
      continue;
    }
    throw new Error(
      `router answered ${res.status} for documents ${docs[0]?.id}..${docs.at(-1)?.id}: ${body}`,
    );
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      index: { type: "string" },
      router: { type: "string" },
      "data-dir": { type: "string" },
      batch: { type: "string" },
      concurrency: { type: "string" },
      "api-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const file = positionals[0];
  if (!file) throw new UsageError(`a JSONL file is required\n\n${help}`);
  if (!existsSync(file)) throw new UsageError(`file not found: ${file}`);
  const router = resolveRouterUrl(
    pickString(values, "data-dir", defaultDataDir),
    pick(values, "router"),
    pick(values, "index"),
  );
  const batchSize = pickInt(values, "batch", 128, 1, 1024);
  const concurrency = pickInt(values, "concurrency", 2, 1, 64);
  const apiKey = pick(values, "api-key");

  const total = await countDocuments(file);
  const started = Date.now();
  let done = 0;
  const tty = process.stderr.isTTY;
  let lastDraw = 0;
  const draw = (final = false) => {
    const now = Date.now();
    if (!final && now - lastDraw < (tty ? 100 : 2000)) return;
    lastDraw = now;
    const line = formatProgress({ done, total, elapsedMs: now - started });
    process.stderr.write(tty ? `\r${line}${final ? "\n" : ""}` : `${line}\n`);
  };

  const inFlight = new Set<Promise<void>>();
  for await (const batch of readDocumentBatches(file, batchSize)) {
    const p: Promise<void> = postBatch(router, batch, apiKey).then(() => {
      done += batch.length;
      draw();
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  draw(true);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `ingested ${done} documents in ${seconds.toFixed(1)}s (${(done / Math.max(seconds, 1e-3)).toFixed(0)} docs/s) into ${router}\n`,
  );
}
