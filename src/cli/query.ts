// `embedops query "text"`: ask an index's router and print the results as a table.
import { parseArgs } from "node:util";
import { defaultDataDir, resolveRouterUrl } from "../local/serve-state.js";
import { formatTable } from "../local/table.js";
import { pick, pickInt, pickString, UsageError } from "./options.js";

const help = `usage: embedops query "TEXT" [--k 5] [--filter JSON] [--index NAME] [--router URL] [--json]

Without --router, the router of the "embedops serve" running in --data-dir (default ${defaultDataDir}) is used.`;

interface QueryResult {
  id: string;
  score: number;
  shard?: string;
  text?: string;
  metadata?: Record<string, unknown>;
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      k: { type: "string" },
      filter: { type: "string" },
      index: { type: "string" },
      router: { type: "string" },
      "data-dir": { type: "string" },
      "api-key": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const text = positionals.join(" ").trim();
  if (!text) throw new UsageError(`query text is required\n\n${help}`);
  const k = pickInt(values, "k", 5, 1, 1000);
  let filter: unknown;
  if (values.filter) {
    try {
      filter = JSON.parse(values.filter);
    } catch {
      throw new UsageError(`--filter must be JSON, e.g. '{"lang":"en"}' or '{"tag":{"in":["a","b"]}}'`);
    }
  }
  const router = resolveRouterUrl(
    pickString(values, "data-dir", defaultDataDir),
    pick(values, "router"),
    pick(values, "index"),
  );
  const apiKey = pick(values, "api-key");
  const started = Date.now();
  const res = await fetch(`${router}/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
    body: JSON.stringify({ text, k, includeText: true, ...(filter === undefined ? {} : { filter }) }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { results?: QueryResult[]; error?: unknown };
  if (!res.ok) throw new Error(`router answered ${res.status}: ${JSON.stringify(body.error ?? body)}`);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return;
  }
  const results = body.results ?? [];
  const rows = results.map((r, i) => [
    String(i + 1),
    r.score.toFixed(4),
    r.id,
    (r.text ?? JSON.stringify(r.metadata ?? {})).replace(/\s+/g, " "),
  ]);
  const width = process.stdout.columns ?? 120;
  process.stdout.write(`${formatTable(["#", "score", "id", "text"], rows, width)}\n`);
  process.stdout.write(`${results.length} results in ${Date.now() - started} ms from ${router}\n`);
}
