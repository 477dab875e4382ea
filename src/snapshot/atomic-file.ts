// Writes a local file so that it is either absent or complete under its final name: stream (or copy)
// into a temporary sibling, fsync it, rename, fsync the directory. A crash mid-copy leaves only a
// ".partial-" file, never a truncated file under the real name.
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { copyHashed, fsyncFile } from "../util/copy-hashed.js";
import type { FileDigest } from "../util/hash-file.js";

export const PARTIAL_PREFIX = ".partial-";

export function isPartialName(name: string): boolean {
  return name.startsWith(PARTIAL_PREFIX);
}

/** Streams `source` to `path` atomically; `onChunk` sees the running byte count. Returns the bytes written. */
export async function writeFileAtomically(
  path: string,
  source: Readable,
  onChunk?: (written: number) => void,
): Promise<number> {
  // Ask for the first chunk before the first await: the iterator listens for the source's errors only
  // once started, and an error raised while the temp file opens (a missing input, a reset
  // connection) must reject here, not escape as an unhandled 'error' event.
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const first = chunks.next();
  first.catch(() => {}); // awaited below; this only marks an early rejection as handled
  const dir = dirname(path);
  let tmp: string | undefined;
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    await mkdir(dir, { recursive: true });
    tmp = partialName(path);
    fh = await open(tmp, "wx");
    let written = 0;
    // Each write finishes before the next chunk is read: backpressure without a pipe.
    for (let r = await first; !r.done; r = await chunks.next()) {
      const buf = typeof r.value === "string" ? Buffer.from(r.value) : r.value;
      await fh.write(buf);
      written += buf.length;
      onChunk?.(written);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    await syncDir(dir);
    return written;
  } catch (err) {
    await chunks.return?.();
    await fh?.close().catch(() => {});
    if (tmp !== undefined) await unlink(tmp).catch(() => {});
    throw err;
  }
}

/**
 * Copies the local file `source` to `path` atomically: a kernel copy into the temporary sibling, hashed
 * from that copy while it is fsynced, then renamed. Returns the size and sha256 of what now is `path`.
 */
export async function copyFileAtomically(source: string, path: string): Promise<FileDigest> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = partialName(path);
  try {
    const digest = await copyHashed(source, tmp);
    await rename(tmp, path);
    await syncDir(dir);
    return digest;
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

function partialName(path: string): string {
  return join(dirname(path), `${PARTIAL_PREFIX}${basename(path)}-${randomBytes(4).toString("hex")}`);
}

/** Makes a rename or unlink in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  await fsyncFile(dir);
}
