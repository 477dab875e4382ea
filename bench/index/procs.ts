// Child processes for the servers under test: started from bin/embedops.mjs (or any command), their
// URL read from the "listening" log line, their memory read from /proc, stopped by SIGTERM so a
// shard writes its shutdown checkpoint.
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { listeningUrl } from "../../src/local/child-process.js";

export interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Spawn and wait until a stdout/stderr line yields the URL (via `urlFrom`). */
export function startProc(
  name: string,
  command: string,
  args: string[],
  opts: {
    urlFrom?: (line: string) => string | undefined;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    cwd?: string;
  } = {},
): Promise<Proc> {
  const urlFrom = opts.urlFrom ?? listeningUrl;
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...(opts.env ?? {}) },
    cwd: opts.cwd,
  });
  const tail: string[] = [];
  const logDir = process.env["EMBEDOPS_BENCH_LOGS"];
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start in time; last output:\n${tail.join("\n")}`));
    }, opts.timeoutMs ?? 180_000);
    const onLine = (line: string) => {
      // EMBEDOPS_BENCH_LOGS=DIR keeps every child's log lines (DIR/<name>.log) for a post-mortem.
      if (logDir) appendFileSync(join(logDir, `${name}.log`), `${line}\n`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (done) return;
      const url = urlFrom(line);
      if (url === undefined) return;
      done = true;
      clearTimeout(timer);
      let exited: Promise<void> | undefined;
      resolve({
        name,
        child,
        url,
        pid: child.pid ?? -1,
        stop() {
          exited ??= new Promise<void>((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res();
            const kill = setTimeout(() => child.kill("SIGKILL"), 60_000);
            child.once("exit", () => {
              clearTimeout(kill);
              res();
            });
            child.kill("SIGTERM");
          });
          return exited;
        },
      });
    };
    if (child.stdout) createInterface({ input: child.stdout }).on("line", onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on("line", onLine);
    child.once("exit", (code, signal) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${tail.join("\n")}`));
    });
  });
}
