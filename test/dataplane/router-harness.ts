// Real `embedops` child processes for the router's data-plane tests: shards, the encoder and the
// router itself, each started through the CLI the way `embedops serve` and Pods start them.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = join(import.meta.dirname, "..", "..");
export const MODEL_DIR = join(ROOT, "models", "all-minilm-l6-v2");
export const haveModel = () => existsSync(join(MODEL_DIR, "model.onnx"));
/** The same weights with CLS pooling: another embedding space, so another fingerprint. */
export const CLS_MODEL_DIR = join(ROOT, "models", "all-minilm-l6-v2-cls");
export const haveClsModel = () => existsSync(join(CLS_MODEL_DIR, "model.onnx"));

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export interface Role {
  name: string;
  url: string;
  child: ChildProcess;
  output(): string;
  /** kill -9: no shutdown hooks, no checkpoint. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRole(name: string, args: string[], timeoutMs = 120_000): Promise<Role> {
  const child = spawn(process.execPath, [join(ROOT, "bin", "embedops.mjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, EMBEDOPS_LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  child.stderr!.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      live.delete(child);
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not listen within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
      out += `${line}\n`;
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "listening" && entry.url) {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening:\n${out}`));
    });
  });
  return {
    name,
    url,
    child,
    output: () => out,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function waitReady(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/readyz`);
      last = `${r.status} ${await r.text()}`;
      if (r.status === 200) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}

/** Polls `check` until it returns true; for states the router reaches by its own probes. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not reached within ${timeoutMs} ms`);
}

export function startEncoder(
  extraArgs: string[] = [],
  name = "encoder",
  modelDir = MODEL_DIR,
): Promise<Role> {
  return startRole(name, [
    "encoder",
    "--model-dir",
    modelDir,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    ...extraArgs,
  ]);
}

export function startShard(
  dataDir: string,
  fingerprint: string,
  dimension: number,
  name: string,
  /** 0 picks a free port; a restart passes the old one so the router's URL stays valid. */
  port = 0,
): Promise<Role> {
  return startRole(name, [
    "shard",
    "--data-dir",
    dataDir,
    "--dimension",
    String(dimension),
    "--metric",
    "cosine",
    "--fingerprint",
    fingerprint,
    "--shard-id",
    name,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
  ]);
}

export function writeConfig(path: string, config: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify(config, null, 2));
}

export function startRouterProcess(
  configPath: string,
  extraArgs: string[] = [],
  name = "router",
): Promise<Role> {
  return startRole(name, [
    "router",
    "--config",
    configPath,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    ...extraArgs,
  ]);
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

export async function call(url: string, method: string, body?: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export function errorOf(a: Answer): { code: string; message: string; field?: string } {
  return a.body.error as { code: string; message: string; field?: string };
}
