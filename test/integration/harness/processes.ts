import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";

/** A port the kernel just handed out on 127.0.0.1; tiny race until the server binds it, accepted in tests. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("could not get a free port"))));
    });
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
