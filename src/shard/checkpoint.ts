// Checkpoint files on disk: write (temp file, fsync, rename, then the sidecar as the commit marker),
// find the newest usable one, and hash files without blocking the event loop.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  candidateSeqs,
  checkpointBaseName,
  fileProblem,
  type GraphParams,
  obsoleteFiles,
  parseSidecar,
  type Sidecar,
  sidecarProblem,
} from "./checkpoint-choice.js";

export async function sha256File(file: string): Promise<{ bytes: number; sha256: string } | null> {
  try {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of createReadStream(file)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).byteLength;
    }
    return { bytes, sha256: hash.digest("hex") };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Make the graph written to `tmpGraph` the checkpoint for `seq`. Order matters for crash safety:
 * graph durable and renamed first, sidecar (with the graph's sha256) last, directory fsynced, and only
 * then the older checkpoints removed.
 */
export async function commitCheckpoint(
  dir: string,
  tmpGraph: string,
  info: Omit<Sidecar, "format" | "sha256" | "bytes" | "createdAt">,
): Promise<Sidecar> {
  await fsyncPath(tmpGraph);
  const digest = await sha256File(tmpGraph);
  if (!digest) throw new Error(`checkpoint temp file ${tmpGraph} vanished before it was committed`);
  const base = checkpointBaseName(info.seq);
  const sidecar: Sidecar = { format: 1, ...info, ...digest, createdAt: new Date().toISOString() };
  await rename(tmpGraph, join(dir, `${base}.hnsw`));
  const tmpSidecar = join(dir, `.tmp-${base}.json`);
  const fh = await open(tmpSidecar, "w");
  try {
    await fh.writeFile(`${JSON.stringify(sidecar, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmpSidecar, join(dir, `${base}.json`));
  await fsyncPath(dir);
  for (const name of obsoleteFiles(await readdir(dir), info.seq)) {
    if (name === `.tmp-${base}.json`) continue;
    await rm(join(dir, name), { force: true });
  }
  return sidecar;
}

export function tempGraphPath(dir: string, seq: number): string {
  return join(dir, `.tmp-${checkpointBaseName(seq)}-${process.pid}.hnsw`);
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

export interface UsableCheckpoint {
  sidecar: Sidecar;
  graphFile: string;
}

/** The newest checkpoint whose sidecar, params and checksum all hold; every rejection is reported. */
export async function findCheckpoint(
  dir: string,
  expected: GraphParams,
  lastSeq: number,
  onRejected: (file: string, reason: string) => void,
): Promise<UsableCheckpoint | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  for (const seq of candidateSeqs(names)) {
    const base = join(dir, checkpointBaseName(seq));
    const parsed = parseSidecar(await readFile(`${base}.json`, "utf8").catch(() => ""));
    if (!parsed.ok) {
      onRejected(`${base}.json`, parsed.reason);
      continue;
    }
    const early = sidecarProblem(parsed.sidecar, seq, expected, lastSeq);
    if (early) {
      onRejected(`${base}.hnsw`, early);
      continue;
    }
    // Hash before hnswlib reads the file: a truncated or flipped graph can crash the native loader.
    const late = fileProblem(parsed.sidecar, await sha256File(`${base}.hnsw`));
    if (late) {
      onRejected(`${base}.hnsw`, late);
      continue;
    }
    return { sidecar: parsed.sidecar, graphFile: `${base}.hnsw` };
  }
  return null;
}

export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    total += await stat(join(dir, name)).then(
      (s) => s.size,
      () => 0,
    );
  }
  return total;
}
