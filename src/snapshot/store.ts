// Where snapshot files go: a directory (a mounted PVC) or an S3-compatible bucket, behind one small
// contract so the snapshot and restore code does not care which. Keys are "/"-separated and
// store-relative (see layout.ts); files move as streams, never whole in memory.
import type { Readable } from "node:stream";

export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
}

export interface PutProgress {
  /** Bytes sent so far. */
  readonly loaded: number;
  /** 1-based part number of a multipart upload; 1 for a single-request put. */
  readonly part: number;
}

export interface PutResult {
  readonly bytes: number;
  /** Parts the object was sent in: 1 for a single put, N for a multipart upload. */
  readonly parts: number;
}

/** What a streamed put stored: the digest is of the bytes as they went into the store. */
export interface StreamPutResult extends PutResult {
  readonly sha256: string;
}

export type HeadResult = { readonly exists: false } | { readonly exists: true; readonly bytes: number };

export interface SnapshotStore {
  /** Where the store is, for status.location and messages, e.g. s3://bucket/ or /snapshots/. No secrets. */
  readonly location: string;
  /** Streams a local file to `key`; a reader never sees a half-written object under `key`. */
  putFile(key: string, localPath: string, onProgress?: (p: PutProgress) => void): Promise<PutResult>;
  /** Streams `body` (a shard's HTTP response) to `key`, hashing it on the way. */
  putStream(key: string, body: Readable, onProgress?: (p: PutProgress) => void): Promise<StreamPutResult>;
  /**
   * Copies `key` to a local file, written under a temporary name, fsynced and renamed when complete;
   * the size and sha256 are of the bytes written (taken as they stream in, or read back from the
   * local copy), which restore checks against the manifest before it uses the file.
   */
  getFile(key: string, localPath: string): Promise<{ bytes: number; sha256: string }>;
  /**
   * A directory on the store's own filesystem for local copies that `moveFile` then takes in by
   * rename; absent for stores that are not a local filesystem.
   */
  readonly stagingDir?: string;
  /** Takes a complete local file over as `key` (rename, fsynced; a copy across filesystems); it is gone from `localPath`. */
  moveFile?(key: string, localPath: string): Promise<PutResult>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Deletes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** A small JSON document (a manifest), written whole. */
  putJson(key: string, value: unknown): Promise<void>;
  getJson(key: string): Promise<unknown>;
  head(key: string): Promise<HeadResult>;
}

export type SnapshotStoreErrorCode =
  /** The bucket or the snapshot directory itself is missing. */
  "StoreMissing" | "NoSuchKey" | "AccessDenied" | "Unreachable" | "InvalidKey" | "InvalidJson" | "Failed";

/** A store failure whose message says what was wrong and how to fix it; never carries a secret. */
export class SnapshotStoreError extends Error {
  override readonly name = "SnapshotStoreError";
  constructor(
    readonly code: SnapshotStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A manifest is a few KiB; anything this large under a JSON key is not one. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

export function tooLarge(key: string, location: string): SnapshotStoreError {
  return new SnapshotStoreError(
    "InvalidJson",
    `snapshot object ${key} in ${location} is larger than ${MAX_JSON_BYTES} bytes; it is not a manifest`,
  );
}

// Segments are plain names: no "", ".", ".." (a path store would leave its directory) and no leading
// "." (the path store's temporary files start with one, so they can never collide with a key).
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=-]*$/;

/** Throws InvalidKey unless `key` is a store-relative object key. */
export function assertKey(key: string): void {
  if (key.length === 0 || key.length > 1024 || !key.split("/").every((s) => SEGMENT.test(s)))
    throw new SnapshotStoreError(
      "InvalidKey",
      `invalid snapshot object key ${JSON.stringify(key)}: use "/"-separated segments of letters, digits, ` +
        `"._=-", not starting with "." and without a leading or trailing "/"`,
    );
}

/** A list/delete prefix: "" (everything) or a key prefix whose complete segments are valid. */
export function assertPrefix(prefix: string): void {
  if (prefix === "") return;
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  assertKey(body);
}
