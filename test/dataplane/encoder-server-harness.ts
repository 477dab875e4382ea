// Spawns the real `embedops encoder` CLI on a free port with the real model, the way an operator's
// Pod (or `embedops serve`) runs it, and waits for readiness.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = join(import.meta.dirname, "..", "..");
export const MODEL_DIR = join(ROOT, "models", "all-minilm-l6-v2");

export interface EncoderProcess {
  url: string;
  child: ChildProcess;
  /** Status and body of the first /readyz answer, taken right after the listening line. */
  firstReadyz: { status: number; body: unknown };
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export function requireModel(): void {
  if (!existsSync(join(MODEL_DIR, "model.onnx"))) {
    throw new Error(`${MODEL_DIR} is missing; run npm run setup:models first`);
  }
}

export async function startEncoderProcess(
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<EncoderProcess> {
  requireModel();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bin", "embedops.mjs"),
      "encoder",
      "--model-dir",
      MODEL_DIR,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...extraArgs,
    ],
    { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === "listening" && entry.url) resolve(entry.url);
      } catch {
        // not a log line; ignore
      }
    });
    void exited.then((code) => reject(new Error(`encoder exited with ${code} before listening:\n${stderr}`)));
  });
  const first = await fetch(`${url}/readyz`);
  const firstReadyz = { status: first.status, body: await first.json() };
  for (;;) {
    const r = await fetch(`${url}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    if (child.exitCode !== null) throw new Error(`encoder exited with ${child.exitCode}:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    firstReadyz,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** Sum of a counter/histogram series in a Prometheus text exposition, over all label sets. */
export function metricValue(text: string, name: string, labels = ""): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(" ") || rest.startsWith("{"))) continue;
    if (labels !== "" && !rest.includes(labels)) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
