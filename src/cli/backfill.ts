// `embedops backfill --plan FILE`: fill index generation N+1 from N's stored text with the candidate
// encoder (src/generation/). A Kubernetes Job in a cluster, a child process of serve locally.
// Exit codes: 0 finished; 3 finished but some documents had no text to re-embed; 2 usage or plan
// errors; 1 anything else, SIGTERM included (the cursor is saved: run it again to continue).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { BackfillError, runBackfill } from "../generation/backfill.js";
import { PlanError, parsePlanText } from "../generation/plan.js";
import { EncoderClient } from "../router/encoder-client.js";
import { HttpClient } from "../router/http-client.js";
import { readEncoderKeyFile } from "../router/key-files.js";
import { createLogger } from "../util/log.js";
import { parentPidFromEnv, watchParent } from "../util/parent-watch.js";
import { pick, requireString, UsageError } from "./options.js";

export const EXIT_WITHOUT_TEXT = 3;

const help = `usage: embedops backfill --plan FILE [--encoder-key-file FILE]

Copies every document of index generation N into N+1, re-embedded from its stored text by N+1's
encoder, throttled and resumable (the cursor lives in N+1's first shard, /v1/meta/backfill).
FILE (or EMBEDOPS_PLAN) is JSON: {index, from: {generation, fingerprint, shards}, to: {generation,
fingerprint, shards, encoder: {url}}, writeQuorum, maxDocumentsPerSecond, batchSize?, latencyGuard?}.

Exit codes: 0 done; 3 done but documents without text were skipped (re-ingest them with text or
delete them, then run again); 2 usage or plan error; 1 any other failure or SIGTERM (run again to
continue from the saved cursor).`;

function readPlan(path: string) {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read --plan ${path}: ${(err as Error).message}; check the path`);
  }
  try {
    return parsePlanText(text, `plan ${path}`);
  } catch (err) {
    if (err instanceof PlanError) throw new UsageError(err.message);
    throw err;
  }
}

export async function run(argv: string[]): Promise<void> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        plan: { type: "string" },
        "encoder-key-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const plan = readPlan(requireString(values, "plan"));
  const keyFile = pick(values, "encoder-key-file");
  let encoderKey: string | undefined;
  try {
    encoderKey = keyFile === undefined ? undefined : readEncoderKeyFile(keyFile);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const log = createLogger({
    role: "backfill",
    index: plan.index,
    from: plan.from.generation,
    to: plan.to.generation,
  });
  const http = new HttpClient(16);
  let stop = false;
  const wakers = new Set<() => void>();
  const onSignal = (signal: string) => {
    if (stop) return;
    stop = true;
    log.info("stop requested; finishing the current batch", { signal });
    for (const wake of wakers) wake();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  // Started by `embedops serve`: stop with it (the cursor is saved), never run on as an orphan.
  if (parentPidFromEnv(process.env) !== undefined)
    watchParent(process.stdin, () => onSignal("embedops serve is gone"));
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stop) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  let result: Awaited<ReturnType<typeof runBackfill>>;
  try {
    result = await runBackfill(plan, {
      http,
      encoder: new EncoderClient(http, plan.to.encoder.url, encoderKey),
      log,
      now: Date.now,
      sleep,
      stopRequested: () => stop,
    });
  } catch (err) {
    if (err instanceof BackfillError) {
      log.error("backfill failed", { err: err.message });
      process.stderr.write(`embedops backfill: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const r = result.record;
  if (result.stopped) {
    process.stderr.write(
      `embedops backfill: stopped before finishing (${r.done} of ~${r.total} done); the cursor is saved, run it again to continue\n`,
    );
    process.exit(1);
  }
  if (r.withoutText > 0) {
    const msg =
      `${r.withoutText} document(s) of ${plan.from.generation} have no text (ingested as vectors) and cannot be re-embedded ` +
      `for ${plan.to.generation}; re-ingest them with text, or delete them, then run the backfill again`;
    log.warn("backfill finished with documents without text", { withoutText: r.withoutText });
    process.stderr.write(`embedops backfill: ${msg}\n`);
    process.exit(EXIT_WITHOUT_TEXT);
  }
  process.stdout.write(
    `embedops backfill: ${plan.from.generation} -> ${plan.to.generation} done: ${r.done} documents (${r.skippedExisting} already written by clients)\n`,
  );
  process.exit(0);
}
