import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * A free port on 127.0.0.1 for a process the test starts later, perhaps minutes later and more than
 * once (a candidate encoder behind Toxiproxy). Chosen below the kernel's ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range), where no `listen(0)` or outgoing connection of another
 * test is handed it in the meantime: a port from listen(0) was, under load, and the candidate then
 * failed with EADDRINUSE. Checked by binding it; another test choosing the same one is about a 1-in-20,000
 * chance and a bind error here, not later.
 */
export async function freePort(): Promise<number> {
  const ephemeralLow = ephemeralRangeStart();
  const low = 10_000;
  const high = Math.max(low + 1_000, ephemeralLow) - 1;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${low}-${high} after 50 tries; is something holding that range?`);
}

function ephemeralRangeStart(): number {
  try {
    const first = Number(
      readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 11_000 ? first : 32_768;
  } catch {
    return 32_768; // not Linux: the IANA range starts at 49152, Linux's default at 32768
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${path})`;
  }
}

// Children of a test run must not outlive it: a leaked apiserver holds ports and etcd holds
// its data dir. An `exit` handler only runs synchronous code, which `kill` is.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
}

export interface LoggedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Set once the process has exited; used to stop waiting for readiness early. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stop(timeoutMs?: number): Promise<void>;
}

/** Starts `command` with stdout and stderr appended to `logFile`. */
export function spawnLogged(name: string, command: string, args: string[], logFile: string): LoggedProcess {
  installExitHook();
  const fd = openSync(logFile, "a");
  const child = spawn(command, args, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  live.add(child);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      live.delete(child);
      resolve();
    });
    child.on("error", (err) => {
      exit = { code: null, signal: null };
      live.delete(child);
      // Lands in the log tail, which is what a startup failure shows.
      appendFileSync(logFile, `\n[harness] could not start ${command}: ${err.message}\n`);
      resolve();
    });
  });
  return {
    name,
    child,
    logFile,
    exited: () => exit,
    async stop(timeoutMs = 10_000) {
      if (exit !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

export async function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
