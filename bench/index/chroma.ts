// System (c): Chroma (PyPI chromadb) as a server in its own venv, fed the same vectors with the same
// HNSW settings; queried over its REST API by the same Node client that drives our router.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { settleUntilSteady } from "../lib/settle.js";
import { type LatencySummary, summarizeLatencies } from "../lib/stats.js";
import { closedLoop } from "../lib/timing.js";
import { dirBytes } from "./cluster.js";
import type { VectorSet } from "./datasets.js";
import { request } from "./http.js";
import { type Proc, rssBytes } from "./procs.js";
import { meanRecall } from "./recall.js";

export const chromaVersion = "1.3.5";
export const chromaVenv =
  process.env.EMBEDOPS_CHROMA_VENV ?? join(homedir(), ".cache", "embedops", "venv-chroma");
const driver = join(dirname(fileURLToPath(import.meta.url)), "chroma_driver.py");

/** Installs chromadb (pinned) into its own venv once; returns why it cannot run, or undefined. */
export function ensureChroma(log: (m: string) => void): string | undefined {
  const py = join(chromaVenv, "bin", "python");
  const chroma = join(chromaVenv, "bin", "chroma");
  try {
    if (!existsSync(py)) execFileSync("python3", ["-m", "venv", chromaVenv], { stdio: "inherit" });
    if (!existsSync(chroma)) {
      log(`installing chromadb==${chromaVersion} into ${chromaVenv}`);
      execFileSync(join(chromaVenv, "bin", "pip"), ["install", "-q", `chromadb==${chromaVersion}`], {
        stdio: "inherit",
      });
    }
    execFileSync(py, ["-c", "import chromadb, numpy"], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `chromadb did not install or import: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

function runDriver(args: string[]): Record<string, unknown> {
  const out = execFileSync(join(chromaVenv, "bin", "python"), [driver, ...args], {
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  const line = out.trim().split("\n").pop() ?? "{}";
  return JSON.parse(line) as Record<string, unknown>;
}

export interface ChromaPoint {
  ef: number;
  clients: number;
  recall: number;
  qps: number;
  latency: LatencySummary;
  errors: number;
}

export interface ChromaResult {
  version: string;
  ingestSeconds: number;
  ingestRate: number;
  compactionWaitSeconds: number;
  curve: ChromaPoint[];
  diskBytesPerVector: number;
  rssBytesPerVector: number;
  configuration: string;
}

export async function runChroma(
  set: VectorSet,
  truth: number[][],
  efs: readonly number[],
  params: { m: number; efConstruction: number; k: number; nq: number; clients: number[] },
  workDir: string,
  log: (m: string) => void,
): Promise<ChromaResult> {
  mkdirSync(workDir, { recursive: true });
  const vecFile = join(workDir, "base.f32");
  writeFileSync(vecFile, Buffer.from(set.base.buffer, set.base.byteOffset, set.base.byteLength));
  const port = await freePort();
  const dataDir = join(workDir, "data");
  const url = `http://127.0.0.1:${port}`;
  // `chroma run` logs a banner, not a URL: wait on its heartbeat instead of a log line.
  let proc = spawnChroma(dataDir, port);
  try {
    await waitHeartbeat(url);
    const emptyRss = rssBytes(proc.pid);
    const name = `bench_${set.name.replace(/[^a-z0-9]/g, "_")}`;
    const ing = runDriver([
      "ingest",
      url,
      name,
      set.metric === "cosine" ? "cosine" : "l2",
      String(set.dim),
      String(set.n),
      vecFile,
      String(params.m),
      String(params.efConstruction),
    ]);
    const collectionId = String(ing.id);
    const ingestSeconds = Number(ing.seconds);
    log(`${set.name} (c) chroma ${String(ing.version)}: added ${set.n} in ${ingestSeconds.toFixed(1)} s`);
    const queryUrl = `${url}/api/v2/tenants/default_tenant/databases/default_database/collections/${collectionId}/query`;
    const bodies = Array.from({ length: params.nq }, (_, q) =>
      Array.from(set.queries.subarray(q * set.dim, (q + 1) * set.dim)),
    );
    const ask = async (q: number) => {
      const res = await request(queryUrl, {
        method: "POST",
        body: JSON.stringify({ query_embeddings: [bodies[q]], n_results: params.k, include: ["distances"] }),
      });
      if (res.status !== 200) throw new Error(`chroma query: ${res.status} ${res.body.slice(0, 300)}`);
      const body = JSON.parse(res.body) as { ids: string[][] };
      return (body.ids[0] ?? []).map((id) => Number(id.slice(1)));
    };
    // Chroma writes go to its log first and a background compactor builds the HNSW segment; queries
    // before that scan the log by brute force. Wait until the probe latency stops falling.
    const { seconds: compactionWaitSeconds } = await settleUntilSteady(async () => {
      for (let q = 0; q < Math.min(30, params.nq); q++) await ask(q);
      return "ok";
    });
    const curve: ChromaPoint[] = [];
    let configuration = String(ing.configuration);
    for (const ef of efs) {
      const set_ = runDriver(["set-ef", url, name, String(ef)]);
      configuration = String(set_.configuration);
      // Chroma persists the new ef_search but keeps serving from its cached HNSW reader (recall did
      // not move with ef in a first run): restart the server so the index is reopened with it.
      await proc.stop();
      proc = spawnChroma(dataDir, port);
      await waitHeartbeat(url);
      for (const clients of params.clients) {
        const found: number[][] = Array.from({ length: params.nq }, () => []);
        const r = await closedLoop(
          { concurrency: clients, maxOps: params.nq, maxSeconds: 600, warmupOps: Math.min(32, params.nq) },
          async (seq) => {
            const q = seq % params.nq;
            found[q] = await ask(q);
          },
        );
        const point: ChromaPoint = {
          ef,
          clients,
          recall: meanRecall(found, truth.slice(0, params.nq), params.k),
          qps: r.ops / r.seconds,
          latency: summarizeLatencies(r.latenciesMs),
          errors: r.errors,
        };
        if (r.errors > 0) log(`  (c) ef=${ef} errors=${r.errors}: ${r.firstError}`);
        log(
          `  (c) ef=${ef} clients=${clients} recall=${point.recall.toFixed(4)} qps=${point.qps.toFixed(0)}`,
        );
        curve.push(point);
      }
    }
    const rss = rssBytes(proc.pid);
    await proc.stop();
    return {
      version: String(ing.version),
      ingestSeconds,
      ingestRate: set.n / ingestSeconds,
      compactionWaitSeconds,
      curve,
      diskBytesPerVector: dirBytes(dataDir) / set.n,
      rssBytesPerVector: (rss - emptyRss) / set.n,
      configuration,
    };
  } finally {
    await proc.stop();
  }
}

function spawnChroma(dataDir: string, port: number): Proc {
  const child = spawn(
    join(chromaVenv, "bin", "chroma"),
    ["run", "--path", dataDir, "--host", "127.0.0.1", "--port", String(port)],
    {
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  let exited: Promise<void> | undefined;
  return {
    name: "chroma",
    child,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? -1,
    stop() {
      exited ??= new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        const kill = setTimeout(() => child.kill("SIGKILL"), 30_000);
        child.once("exit", () => {
          clearTimeout(kill);
          res();
        });
        child.kill("SIGTERM");
      });
      return exited;
    },
  };
}

async function waitHeartbeat(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await request(`${url}/api/v2/heartbeat`).catch(() => undefined);
    if (r?.status === 200) return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`chroma at ${url} never answered /api/v2/heartbeat`);
}
