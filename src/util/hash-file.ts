// The size and sha256 of a local file, hashed on a worker thread. Hashing runs at about 1.5 GB/s on
// one core; on the main thread it stalls the event loop (a shard's queries, the other shard's copy in
// a restore) and keeps a second core idle while the file is written or fsynced. A worker reads the
// file itself (from the page cache right after a copy) with large reads, so no bytes cross threads.
// Workers are kept for a few seconds once idle: starting one costs ~30 ms of CPU, which a snapshot
// of several files would otherwise pay per file.
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Below this, posting to a worker costs more than hashing on the main thread. */
const OFF_THREAD_BYTES = 8 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;
const IDLE_MS = 5_000;

// Plain CommonJS, evaluated: the same code whether the caller runs from src/ under tsx or from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { openSync, readSync, closeSync } = require("node:fs");
const { createHash } = require("node:crypto");
const buf = Buffer.allocUnsafe(workerData.chunk);
parentPort.on("message", (path) => {
  try {
    const hash = createHash("sha256");
    const fd = openSync(path, "r");
    let bytes = 0;
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, bytes);
        if (n === 0) break;
        hash.update(buf.subarray(0, n));
        bytes += n;
      }
    } finally {
      closeSync(fd);
    }
    parentPort.postMessage({ bytes, sha256: hash.digest("hex") });
  } catch (err) {
    parentPort.postMessage({ error: { message: err.message, code: err.code } });
  }
});
`;

type Answer = FileDigest | { error: { message: string; code?: string } };

interface Job {
  readonly path: string;
  readonly resolve: (d: FileDigest) => void;
  readonly reject: (err: Error) => void;
}

interface PooledWorker {
  readonly worker: Worker;
  job?: Job;
  idleTimer?: NodeJS.Timeout;
}

const pool: PooledWorker[] = [];
const queue: Job[] = [];
const maxWorkers = Math.max(1, availableParallelism());

/** Size and sha256 of the file at `path` as read now; large files are hashed on a worker thread. */
export async function hashFile(path: string): Promise<FileDigest> {
  const { size } = await stat(path);
  if (size < OFF_THREAD_BYTES) return hashHere(path);
  return new Promise((resolve, reject) => {
    queue.push({ path, resolve, reject });
    dispatch();
  });
}

function dispatch(): void {
  while (queue.length > 0) {
    let w = pool.find((p) => p.job === undefined);
    if (!w && pool.length < maxWorkers) w = spawn();
    if (!w) return;
    const job = queue.shift() as Job;
    clearTimeout(w.idleTimer);
    w.job = job;
    w.worker.ref();
    w.worker.postMessage(job.path);
  }
}

function spawn(): PooledWorker {
  const p: PooledWorker = {
    worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { chunk: CHUNK } }),
  };
  const drop = (err: Error) => {
    const i = pool.indexOf(p);
    if (i >= 0) pool.splice(i, 1);
    clearTimeout(p.idleTimer);
    p.job?.reject(err);
    p.job = undefined;
    dispatch();
  };
  p.worker.on("message", (m: Answer) => {
    const job = p.job;
    p.job = undefined;
    if (job) {
      if ("error" in m) job.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else job.resolve({ bytes: m.bytes, sha256: m.sha256 });
    }
    // An idle worker neither keeps the process alive nor lingers.
    p.worker.unref();
    p.idleTimer = setTimeout(() => {
      if (p.job === undefined) {
        drop(new Error("hash worker retired"));
        void p.worker.terminate();
      }
    }, IDLE_MS);
    p.idleTimer.unref();
    dispatch();
  });
  p.worker.on("error", (err) => drop(err));
  p.worker.on("exit", (code) => drop(new Error(`hash worker exited (${code}) before it answered`)));
  pool.push(p);
  return p;
}

async function hashHere(path: string): Promise<FileDigest> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  const fh = await open(path, "r");
  let bytes = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { bytes, sha256: hash.digest("hex") };
}
