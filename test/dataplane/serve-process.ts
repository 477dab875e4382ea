// `embedops serve` as a real process, started the way a newcomer starts it, plus the other CLI
// commands and a look at its children through /proc (Linux).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { readServeState, type ServeState } from "../../src/local/serve-state.js";
import { MODEL_DIR, ROOT } from "./router-harness.js";

export const CLI = join(ROOT, "bin", "embedops.mjs");

/** Run an `embedops` command to completion from the repository root. */
export function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface ServeProcess {
  proc: ChildProcess;
  dataDir: string;
  /** What serve wrote so far: stdout (unless closed) and stderr. */
  output(): string;
  exited: Promise<number | null>;
}

export interface ServeOptions {
  dataDir: string;
  file?: string;
  /** Destroy the reading end of serve's stdout at once, as when the script that started it exits. */
  closeStdout?: boolean;
  /** Extra environment (test hooks such as EMBEDOPS_TEST_MIN_INTERVAL_SECONDS). */
  env?: Record<string, string>;
}

export function spawnServe(o: ServeOptions): ServeProcess {
  const proc = spawn(
    process.execPath,
    [CLI, "serve", "-f", o.file ?? "examples/quickstart.yaml", "--data-dir", o.dataDir],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...o.env } },
  );
  let output = "";
  const append = (d: Buffer) => {
    output += d.toString();
  };
  if (o.closeStdout) proc.stdout!.destroy();
  else proc.stdout!.on("data", append);
  proc.stderr!.on("data", append);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return { proc, dataDir: o.dataDir, output: () => output, exited };
}

/**
 * Resolves with serve's state once it is ready: serve.json names its pid and (unless its stdout is
 * closed) the "is ready" banner arrived. Throws if serve exits first or after `timeoutMs`.
 */
export async function waitServeReady(s: ServeProcess, timeoutMs = 300_000): Promise<ServeState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = readServeState(s.dataDir);
    const bannerSeen = s.proc.stdout!.destroyed || s.output().includes("is ready");
    if (state !== undefined && state.pid === s.proc.pid && bannerSeen) return state;
    if (s.proc.exitCode !== null) throw new Error(`embedops serve exited ${s.proc.exitCode}:\n${s.output()}`);
    if (Date.now() > deadline)
      throw new Error(`embedops serve not ready after ${timeoutMs} ms:\n${s.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * SIGKILLs serve and waits until its children are gone too: they see serve's stdin pipe close and run
 * their own shutdown, in which a shard writes a final checkpoint. A test that removes its data dir
 * right after serve exited raced that write (ENOTEMPTY in CI). A child still running after `graceMs`
 * is killed.
 */
export async function killServe(s: ServeProcess, graceMs = 20_000): Promise<void> {
  const children = s.proc.pid === undefined ? [] : childPids(s.proc.pid);
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill("SIGKILL");
  await s.exited;
  const deadline = Date.now() + graceMs;
  for (;;) {
    const running = children.filter(pidRunning);
    if (running.length === 0) return;
    if (Date.now() > deadline) {
      for (const pid of running) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone between the check and the kill: nothing left to stop
        }
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** "state ppid" of `pid` from /proc/<pid>/stat, or undefined once it is gone. */
function stat(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const [state, ppid] = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: state ?? "?", ppid: Number(ppid) };
}

/** The pids whose parent is `pid`. */
export function childPids(pid: number): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((candidate) => stat(candidate)?.ppid === pid);
}

/** Whether `pid` is a running process (a zombie waiting for its reaper is not). */
export function pidRunning(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== "Z";
}

/** The command line of `pid` as one string ("" once it is gone). */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

/**
 * Resolves with `check()`'s first value that is neither undefined nor false, polling every
 * `everyMs`; throws naming `what` after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => T | undefined | false,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * serve's file: the bundled MiniLM as EmbeddingModel `encoder` and VectorIndex `docs` on it with one
 * shard and `replicas` replicas; `indexSpec` adds lines (indented two spaces) to the index's spec.
 */
export function minilmIndexYaml(replicas: number, indexSpec: readonly string[] = []): string {
  return `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: encoder
spec:
  source:
    path: ${MODEL_DIR}
  dimension: 384
  pooling: mean
  normalize: true
  maxSequenceLength: 256
  runtime:
    replicas: 1
    threads: 2
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: docs
spec:
  modelRef:
    name: encoder
  metric: cosine
  shards: 1
  replicas: ${replicas}
${indexSpec.map((l) => `  ${l}\n`).join("")}`;
}
