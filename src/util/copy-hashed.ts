// A file copied, hashed and fsynced, with the work spread over threads: the kernel copies the bytes
// (fs.copyFile: copy_file_range, as cp does, no pass through a userland buffer), then a worker thread
// hashes the copy while its fsync runs. The digest is of the copy itself, read back from the page
// cache it was just written to, so it covers the bytes that are stored, not the source they came from.
// A read/hash/write loop on the main thread did hash and write one after the other, and its writes
// from a userland buffer cost twice the kernel time of copy_file_range (2 x 376 MB, 2 cores: system
// CPU 1.0-1.6 s -> 0.4-0.5 s per copy of both).
import { constants } from "node:fs";
import { copyFile, open } from "node:fs/promises";
import { type FileDigest, hashFile } from "./hash-file.js";

export interface StartedCopy {
  /** The copy's size and sha256, once it is also fsynced. */
  readonly done: Promise<FileDigest>;
}

/**
 * Copies `from` to the new file `to` (it must not exist) and resolves once every byte is in `to`: a
 * caller holding writers may release them then. `done` hashes and fsyncs `to`. A failed copy leaves
 * no `to` behind; a failed hash or fsync leaves it for the caller's cleanup.
 */
export async function startCopyHashed(from: string, to: string): Promise<StartedCopy> {
  await copyFile(from, to, constants.COPYFILE_EXCL);
  const done = Promise.all([hashFile(to), fsyncFile(to)]).then(([digest]) => digest);
  done.catch(() => {}); // awaited by the caller, maybe after other awaits; this only marks it handled
  return { done };
}

/** Copies `from` to the new file `to` (fsynced), returning the size and sha256 of what was written. */
export async function copyHashed(from: string, to: string): Promise<FileDigest> {
  return (await startCopyHashed(from, to)).done;
}

/** fsync of a file, or of a directory (a rename or unlink in it made durable). */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
