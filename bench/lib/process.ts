// Child server processes for benchmarks: start, wait until an HTTP probe answers, stop by pid.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** The last lines of its stdout+stderr, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (or signal name). */
  stop(graceMs?: number): Promise<string>;
}

export interface StartOptions {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Finds the base URL in a line of output (stdout or stderr); undefined when `url` is given. */
  urlFromLine?: (line: string) => string | undefined;
  url?: string;
  /** GET path that answers 2xx once the server can take load. */
  readyPath: string;
  timeoutMs: number;
}

/** A free TCP port on 127.0.0.1 (for servers that cannot be told to pick one and report it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let url = opts.url;
  let exited: string | undefined;
  const onData = (buf: Buffer) => {
    for (const line of buf.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      lines.push(line);
      if (lines.length > 60) lines.shift();
      url ??= opts.urlFromLine?.(line);
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exit = new Promise<string>((resolve) =>
    child.once("exit", (code, signal) => {
      exited = signal ?? String(code);
      resolve(exited);
    }),
  );
  const tail = () => lines.slice(-15).join("\n");
  const stop = async (graceMs = 15_000): Promise<string> => {
    if (exited !== undefined) return exited;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const result = await exit;
    clearTimeout(timer);
    return result;
  };

  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new Error(`${opts.command} exited (${exited}) before it was ready:\n${tail()}`);
    if (url !== undefined) {
      try {
        const res = await fetch(new URL(opts.readyPath, url), { signal: AbortSignal.timeout(2000) });
        if (res.ok) return { child, url, tail, stop };
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop(2000);
  throw new Error(`${opts.command} was not ready within ${opts.timeoutMs} ms:\n${tail()}`);
}
