// One supervised `embedops <role>` child: started, watched for its {"msg":"listening"} line, restarted
// with backoff when it dies unexpectedly (on the same port, so its URL stays valid), stopped with
// SIGTERM and, after a grace period, SIGKILL. Its stdin is a pipe from serve that it watches
// (src/util/parent-watch.ts): when serve dies, however it dies, the child shuts down too.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Logger } from "../util/log.js";
import { parentPidEnv } from "../util/parent-watch.js";
import { exitReason, keepTail, worthRestarting } from "./child-exit.js";
import {
  afterCrash,
  type CrashHistory,
  defaultRestartPolicy,
  type RestartPolicy,
} from "./restart-backoff.js";

export const cliPath = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "embedops.mjs");

export interface ChildSpec {
  /** A name unique among the children, e.g. "docs-shard-0-r1". */
  name: string;
  /** Arguments after `embedops`, without --host/--port. */
  args: string[];
  env?: Record<string, string>;
  /** Where the child's own log lines go. */
  logFile: string;
  /** Port to bind; 0 picks one on the first start, later starts reuse it. */
  port?: number;
}

export interface ChildEvents {
  onRestart?(name: string, url: string): void;
}

/** A child exited before it listened; `reason` is what it said on stderr, if anything. */
export class ChildStartError extends Error {
  override name = "ChildStartError";
  constructor(
    readonly child: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly reason: string | undefined,
    readonly logFile: string,
  ) {
    super(
      `${child} exited before listening (code ${code}, signal ${signal})` +
        `${reason === undefined ? "" : `: ${reason}`}; its log: ${logFile}`,
    );
  }
}

export class SupervisedChild {
  private proc: ChildProcess | undefined;
  private port: number;
  private history: CrashHistory = { consecutive: 0 };
  private stopping = false;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  /** The current run's last stderr lines, to say why it exited. */
  private stderrTail: string[] = [];
  private log: WriteStream;
  url = "";
  restarts = 0;

  constructor(
    readonly spec: ChildSpec,
    private readonly logger: Logger,
    private readonly events: ChildEvents = {},
    private readonly policy: RestartPolicy = defaultRestartPolicy,
    private readonly startTimeoutMs = 120_000,
  ) {
    this.port = spec.port ?? 0;
    this.log = createWriteStream(spec.logFile, { flags: "a" });
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the child and resolves with its URL once it is listening. */
  start(): Promise<string> {
    return new Promise((resolve, reject) => {
      const args = [cliPath, ...this.spec.args, "--host", "127.0.0.1", "--port", String(this.port)];
      const proc = spawn(process.execPath, args, {
        env: { ...process.env, ...this.spec.env, [parentPidEnv]: String(process.pid) },
        // stdin: a pipe nothing is written to; its end tells the child that serve is gone.
        stdio: ["pipe", "pipe", "pipe"],
      });
      // Nothing is written, so no write can fail; a reset pipe of a dying child is no news.
      proc.stdin?.on("error", () => undefined);
      this.proc = proc;
      this.startedAt = Date.now();
      this.stderrTail = [];
      let listening = false;
      const timer = setTimeout(() => {
        if (!listening) {
          proc.kill("SIGKILL");
          reject(
            new Error(
              `${this.spec.name} did not start listening within ${this.startTimeoutMs} ms; see ${this.spec.logFile}`,
            ),
          );
        }
      }, this.startTimeoutMs);
      createInterface({ input: proc.stderr! }).on("line", (line) => {
        this.log.write(`${line}\n`);
        this.stderrTail = keepTail(this.stderrTail, line);
      });
      const lines = createInterface({ input: proc.stdout! });
      lines.on("line", (line) => {
        this.log.write(`${line}\n`);
        if (listening) return;
        const url = listeningUrl(line);
        if (url) {
          listening = true;
          clearTimeout(timer);
          this.url = url;
          this.port = Number(new URL(url).port);
          resolve(url);
        }
      });
      proc.once("error", (err) => {
        clearTimeout(timer);
        if (!listening) reject(err);
      });
      // "close", not "exit": it comes after the child's stdout and stderr are read to the end, so
      // its last words are in stderrTail.
      proc.once("close", (code, signal) => {
        clearTimeout(timer);
        if (!listening) {
          reject(
            new ChildStartError(this.spec.name, code, signal, exitReason(this.stderrTail), this.spec.logFile),
          );
          return;
        }
        if (this.stopping) return;
        this.scheduleRestart(code, signal);
      });
    });
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null): void {
    const { delayMs, history } = afterCrash(this.history, Date.now() - this.startedAt, this.policy);
    this.history = history;
    this.logger.warn("child exited; restarting", {
      child: this.spec.name,
      code,
      signal,
      reason: exitReason(this.stderrTail),
      delayMs,
      logFile: this.spec.logFile,
    });
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.start().then(
        (url) => {
          this.restarts += 1;
          this.logger.info("child restarted", { child: this.spec.name, url });
          this.events.onRestart?.(this.spec.name, url);
        },
        (err: unknown) => {
          if (err instanceof ChildStartError && !worthRestarting(err.code)) {
            this.logger.error("child refused to start; not restarting it", {
              child: this.spec.name,
              code: err.code,
              reason: err.reason,
              logFile: this.spec.logFile,
              hint: "fix what the reason says, then restart embedops serve",
            });
            return;
          }
          this.logger.error("child restart failed", { child: this.spec.name, err });
          if (this.stopping) return;
          if (err instanceof ChildStartError) this.scheduleRestart(err.code, err.signal);
          else this.scheduleRestart(null, null);
        },
      );
    }, delayMs);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      this.log.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      proc.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill("SIGTERM");
    });
    this.log.end();
  }
}

/** The URL from a `{"msg":"listening","url":...}` log line, or undefined for any other line. */
export function listeningUrl(line: string): string | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return parsed.msg === "listening" && typeof parsed.url === "string" ? parsed.url : undefined;
  } catch {
    return undefined;
  }
}
