// `embedops serve` as a supervisor: it outlives a closed stdout, refuses a second serve on its data
// dir, never leaves a child behind when it is killed, and refuses a data dir a stray shard holds —
// all with the real quickstart model, real processes, a temp data dir and free ports.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generationName } from "../../src/core/generation.js";
import { shardDataDir } from "../../src/local/plan.js";
import type { ServeState } from "../../src/local/serve-state.js";
import { haveModel, MODEL_DIR, ROOT } from "./router-harness.js";
import {
  childPids,
  cli,
  commandLine,
  killServe,
  pidRunning,
  type ServeProcess,
  spawnServe,
  waitServeReady,
} from "./serve-process.js";
import { type ShardProcess, startShardProcess } from "./shard-process.js";

const rickets = "wn-noun-14201311";

/** Polls `check` every 100 ms until it holds; throws `what` after `timeoutMs`. */
async function until(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ready(url: string): Promise<boolean> {
  return fetch(`${url}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
}

/** The id of the best match for a question about rickets, or the router's error. */
async function firstHit(router: string): Promise<string | undefined> {
  const res = await fetch(`${router}/v1/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: "an illness of children who lack vitamin D and sunlight", k: 3 }),
  });
  if (res.status !== 200) return `HTTP ${res.status}: ${await res.text()}`;
  const body = (await res.json()) as { results: { id: string }[] };
  return body.results[0]?.id;
}

/** serve's child running shard-0 (replica 0) of the quickstart's index. */
function shardZeroPid(servePid: number): number | undefined {
  return childPids(servePid).find((pid) => / --shard-id docs\/g-[0-9a-f]+\/shard-0 /.test(commandLine(pid)));
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("embedops serve as a supervisor", () => {
  let dataDir: string;
  let serve: ServeProcess;
  let state: ServeState;
  let stray: ShardProcess | undefined;

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    dataDir = mkdtempSync(join(tmpdir(), "embedops-serve-sup-"));
    // The reader of serve's stdout is gone from the start: its ready banner and every info line
    // go into a closed pipe. stderr stays open to watch it.
    serve = spawnServe({ dataDir, closeStdout: true });
    state = await waitServeReady(serve);
  }, 330_000);

  afterAll(async () => {
    if (serve) await killServe(serve);
    if (stray && stray.proc.exitCode === null) await stray.kill9();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("when the reader of its stdout is gone, then serve keeps serving and keeps restarting crashed children", async () => {
    const router = state.indexes.docs!.router;
    const lines = readFileSync(join(ROOT, "examples", "docs.jsonl"), "utf8").split("\n");
    const documents = [...lines.slice(0, 40), ...lines.filter((l) => l.includes(rickets))].map(
      (l) => JSON.parse(l) as unknown,
    );
    const ingest = await fetch(`${router}/v1/documents`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ documents }),
    });
    expect(ingest.status).toBe(200);
    expect(await firstHit(router)).toBe(rickets);

    // A crash makes serve log: "child exited; restarting" (stderr), then "child restarted" (stdout,
    // closed). serve handles the restarted child's listening line before that child's exit, so a
    // second "child exited" line proves serve outlived the write to the closed stdout.
    const shardUrl = state.indexes.docs!.shards[0]![0]!;
    for (let crash = 1; crash <= 2; crash++) {
      const pid = shardZeroPid(serve.proc.pid!);
      expect(pid, `shard-0 among serve's children: ${childPids(serve.proc.pid!)}`).toBeDefined();
      process.kill(pid!, "SIGKILL");
      await until(
        `serve logs crash ${crash}`,
        10_000,
        () => count(serve.output(), '"msg":"child exited; restarting"') >= crash,
      );
      await until("shard-0 back on its URL", 60_000, async () => {
        const again = shardZeroPid(serve.proc.pid!);
        return again !== undefined && again !== pid && (await ready(shardUrl));
      });
    }
    expect(serve.proc.exitCode).toBeNull();
    // The router marked shard-0 down when it crashed; its readiness probe brings it back.
    await until(
      "the router answers with shard-0 back",
      30_000,
      async () => (await firstHit(router)) === rickets,
    );
  }, 180_000);

  it("when a second serve starts on the same data dir, then it exits 2 naming the first, which still answers", async () => {
    const second = cli(["serve", "-f", "examples/quickstart.yaml", "--data-dir", dataDir]);
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`another "embedops serve" (pid ${serve.proc.pid}) is using ${dataDir}`);
    expect(existsSync(join(dataDir, "serve.json"))).toBe(true);
    expect(await firstHit(state.indexes.docs!.router)).toBe(rickets);
  }, 60_000);

  it("when a restarted child is refused (its data dir is held), then serve logs why, naming the holder, instead of restart-looping, and the rest keeps running", async () => {
    const pid = shardZeroPid(serve.proc.pid!)!;
    const held = commandLine(pid).match(/--data-dir (\S+)/)![1]!;
    // Frozen, serve cannot restart shard-0 before the stray shard takes its data dir.
    process.kill(serve.proc.pid!, "SIGSTOP");
    try {
      process.kill(pid, "SIGKILL");
      stray = await startShardProcess({
        dataDir: held,
        dimension: 384,
        metric: "cosine",
        fingerprint: state.models.minilm!.fingerprint,
      });
      await stray.waitReady();
    } finally {
      process.kill(serve.proc.pid!, "SIGCONT");
    }
    const refusal = '"msg":"child refused to start; not restarting it"';
    await until("serve reports the refusal", 60_000, () => serve.output().includes(refusal));
    const line = serve
      .output()
      .split("\n")
      .find((l) => l.includes(refusal))!;
    expect(JSON.parse(line)).toMatchObject({
      level: "error",
      code: 2,
      reason: expect.stringContaining(
        `data dir ${held} is held by another shard process, pid ${stray.proc.pid}`,
      ),
    });
    expect(shardZeroPid(serve.proc.pid!)).toBeUndefined();
    expect(serve.proc.exitCode).toBeNull();
    // The router is up (not ready: a shard has no replica), so the rest keeps running.
    expect((await fetch(`${state.indexes.docs!.router}/healthz`)).status).toBe(200);
    expect(await stray.stop()).toBe(0);
    stray = undefined;
  }, 120_000);

  it("when serve is killed with SIGKILL, then within 10 s none of its children runs, and each shard closed its database", async () => {
    const children = childPids(serve.proc.pid!);
    expect(children.map(commandLine).map((c) => c.match(/ (encoder|shard|router) /)?.[1])).toEqual(
      expect.arrayContaining(["encoder", "shard", "router"]),
    );
    const shardDirs = children.flatMap((pid) => commandLine(pid).match(/ shard --data-dir (\S+)/)?.[1] ?? []);
    const killedAt = Date.now();
    await killServe(serve);
    await until(`children ${children} gone`, 10_000, () => children.every((pid) => !pidRunning(pid)));
    console.info(`serve-supervision: children gone ${Date.now() - killedAt} ms after SIGKILL`);
    expect(shardDirs.length).toBeGreaterThan(0);
    for (const dir of shardDirs) {
      const files = readdirSync(dir);
      // A clean close folds the WAL into shard.db and removes the holder's record.
      expect(files, dir).toContain("shard.db");
      expect(files, dir).not.toContain("shard.db-wal");
      expect(files, dir).not.toContain("owner.json");
    }
  }, 30_000);

  it("when a stray shard holds a replica's data dir, then serve refuses to start, naming it and the dir, and leaves nothing running", async () => {
    const fingerprint = state.models.minilm!.fingerprint;
    const held = shardDataDir(dataDir, "docs", generationName(fingerprint), "shard-0", 0);
    // As a shard orphaned by an older embedops would: same dir, same identity, no parent watch.
    stray = await startShardProcess({ dataDir: held, dimension: 384, metric: "cosine", fingerprint });
    await stray.waitReady();

    const again = cli(["serve", "-f", "examples/quickstart.yaml", "--data-dir", dataDir]);
    expect(again.status, again.stderr).toBe(1);
    expect(again.stderr).toContain("serve failed to start");
    expect(again.stderr).toContain(
      `data dir ${held} is held by another shard process, pid ${stray.proc.pid}`,
    );
    const others = readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e) && Number(e) !== stray!.proc.pid)
      .filter((e) => commandLine(Number(e)).includes(dataDir));
    expect(others.map((e) => commandLine(Number(e)))).toEqual([]);
    expect(await ready(stray.url)).toBe(true);
  }, 330_000);
});
