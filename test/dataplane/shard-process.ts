// Start `embedops shard` as a real child process and talk to it over real HTTP.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";

const root = join(import.meta.dirname, "..", "..");

export interface ShardProcess {
  url: string;
  proc: ChildProcess;
  /** Every JSON log line seen so far (stdout and stderr). */
  logs: Record<string, unknown>[];
  waitReady(): Promise<void>;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export interface ShardArgs {
  dataDir: string;
  dimension: number;
  metric?: string;
  fingerprint?: string;
  extra?: string[];
  /** Started as `embedops serve` starts it: a pipe on stdin and EMBEDOPS_PARENT_PID (this process). */
  supervised?: boolean;
}

export function shardArgv(a: ShardArgs): string[] {
  return [
    join(root, "bin", "embedops.mjs"),
    "shard",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--data-dir",
    a.dataDir,
    "--dimension",
    String(a.dimension),
    "--metric",
    a.metric ?? "cosine",
    "--fingerprint",
    a.fingerprint ?? "f00d",
    ...(a.extra ?? []),
  ];
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
}

export async function startShardProcess(a: ShardArgs): Promise<ShardProcess> {
  const proc = spawn(process.execPath, shardArgv(a), {
    stdio: [a.supervised ? "pipe" : "ignore", "pipe", "pipe"],
    cwd: root,
    env: a.supervised ? { ...process.env, EMBEDOPS_PARENT_PID: String(process.pid) } : process.env,
  });
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const onLine = (line: string) => {
    raw.push(line);
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line (e.g. a usage error): kept in `raw` for the failure message
    }
  };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on("line", onLine);
  createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on("line", onLine);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const l = logs.find((x) => x.msg === "listening");
      if (l) {
        clearInterval(timer);
        resolve(String(l.url));
      } else if (proc.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`shard exited with ${proc.exitCode} before listening:\n${raw.join("\n")}`));
      }
    }, 20);
  });
  return {
    url,
    proc,
    logs,
    async waitReady() {
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`shard exited with ${proc.exitCode}:\n${raw.join("\n")}`);
        const ok = await fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async kill9() {
      proc.kill("SIGKILL");
      await exited(proc);
    },
    async stop() {
      proc.kill("SIGTERM");
      return exited(proc);
    },
  };
}

/** Run the CLI to completion (for start-up refusals). */
export function runShardToExit(a: ShardArgs): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, shardArgv(a), { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  let output = "";
  proc.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  return exited(proc).then((code) => ({ code, output }));
}

export async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body instanceof Uint8Array) {
    init.body = body;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Deterministic pseudo-random numbers (tests must be reproducible). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Clustered vectors (embedding-like: points near a few centres), not uniform noise. */
export function clustered(n: number, dim: number, seed: number, clusters = 16): number[][] {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dim }, gauss));
  return Array.from({ length: n }, (_, i) => {
    const c = centres[i % clusters] as number[];
    return c.map((x) => x + 0.35 * gauss());
  });
}

/** Every live id, paged through /v1/scan. */
export async function allIds(url: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let after = 0;
  for (;;) {
    const r = await call(url, "GET", `/v1/scan?afterSeq=${after}&limit=5000`);
    const items = r.body.items as { id: string; seq: number }[];
    for (const it of items) ids.add(it.id);
    after = r.body.nextAfterSeq as number;
    if (r.body.done) return ids;
  }
}

export interface StalledPeer {
  readonly url: string;
  /** Waits for the first request, then answers every held one 503 "peer is loading". */
  release(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A peer that holds each request until `release()`: a catch-up from it stays running as long as a
 * test needs (a fault a real shard cannot be made to show on demand).
 */
export async function stalledPeer(): Promise<StalledPeer> {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => {
    held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async release() {
      while (held.length === 0) await new Promise((r) => setTimeout(r, 20));
      for (const res of held.splice(0)) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "peer is loading" }));
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
