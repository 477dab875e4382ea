// Where a shard keeps the snapshot copies it serves over HTTP (POST /v1/snapshot without a dir):
// <dataDir>/snapshot-copies/<copy id>/, one directory per copy, removed by DELETE once fetched. A
// caller that dies mid-snapshot never sends the DELETE, so copies older than COPY_MAX_AGE_MS are
// removed at start-up and whenever a new copy starts: an interrupted snapshot cannot fill the disk.
import { randomBytes } from "node:crypto";
import { join } from "node:path";

export const COPIES_DIR = "snapshot-copies";
/** A copy is fetched within minutes; one this old belongs to a snapshot that died. */
export const COPY_MAX_AGE_MS = 60 * 60_000;

// Ids are made here (time + random, so a listing sorts by age) and checked on every request, so a
// request path can never name anything outside the copies directory.
const COPY_ID = /^c[0-9a-z]{1,12}-[0-9a-f]{8}$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/;

export function newCopyId(nowMs: number): string {
  return `c${nowMs.toString(36)}-${randomBytes(4).toString("hex")}`;
}

export function isCopyId(id: string): boolean {
  return COPY_ID.test(id);
}

export function isCopyFileName(name: string): boolean {
  return FILE_NAME.test(name);
}

export function copiesDir(dataDir: string): string {
  return join(dataDir, COPIES_DIR);
}

/** The copies to remove: every entry older than `maxAgeMs` (a copy's directory time is when it was made). */
export function staleCopies(
  entries: readonly { name: string; mtimeMs: number }[],
  nowMs: number,
  maxAgeMs = COPY_MAX_AGE_MS,
): string[] {
  return entries
    .filter((e) => nowMs - e.mtimeMs > maxAgeMs)
    .map((e) => e.name)
    .sort();
}
