// The size and sha256 of a local file, hashed on a worker thread. Hashing runs at about 1.5 GB/s on
// one core; on the main thread it stalls the event loop (a shard's queries, the other shard's copy in
// a restore) and keeps a second core idle while the file is written or fsynced. A worker reads the
// file itself (from the page cache right after a copy) with large reads, so no bytes cross threads.
import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";

export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Below this a worker's start-up (~20 ms) costs more than hashing on the main thread. */
const OFF_THREAD_BYTES = 8 * 1024 * 1024;
const CHUNK = 4 * 1024 * 1024;

// Plain CommonJS, evaluated: the same code whether the caller runs from src/ under tsx or from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { openSync, readSync, closeSync } = require("node:fs");
const { createHash } = require("node:crypto");
const hash = createHash("sha256");
const buf = Buffer.allocUnsafe(workerData.chunk);
const fd = openSync(workerData.path, "r");
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
`;

/** Size and sha256 of the file at `path` as read now; large files are hashed on a worker thread. */
export async function hashFile(path: string): Promise<FileDigest> {
  const { size } = await stat(path);
  return size >= OFF_THREAD_BYTES ? hashOnWorker(path) : hashHere(path);
}

function hashOnWorker(path: string): Promise<FileDigest> {
  return new Promise((resolve, reject) => {
    let answer: FileDigest | undefined;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, chunk: CHUNK } });
    worker.once("message", (m: FileDigest) => {
      answer = m;
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (answer) resolve(answer);
      else reject(new Error(`hashing ${path} stopped (worker exit ${code}) before it finished`));
    });
  });
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
