// The snapshot store on a directory, e.g. a mounted PVC: key "a/b/c" is the file <root>/a/b/c.
// Writes go through writeFileAtomically / copyFileAtomically (temp name, fsync, rename), so a listed
// object is complete. Files move by kernel copy (as cp does), hashed from the copy beside its fsync.
import { createReadStream } from "node:fs";
import { mkdir, readdir, rename, rmdir, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { Readable } from "node:stream";
import { fsyncFile } from "../util/copy-hashed.js";
import { copyFileAtomically, isPartialName, syncDir, writeFileAtomically } from "./atomic-file.js";
import { digesting } from "./file-digest.js";
import {
  assertKey,
  assertPrefix,
  type HeadResult,
  MAX_JSON_BYTES,
  type PutProgress,
  type PutResult,
  type SnapshotStore,
  SnapshotStoreError,
  type StoredObject,
  type StreamPutResult,
  tooLarge,
} from "./store.js";

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

export class PathStore implements SnapshotStore {
  readonly location: string;
  /** Inside the root, so moveFile is a rename; its leading "." keeps it out of every listing. */
  readonly stagingDir: string;
  private readonly root: string;

  /** `root` must exist: a missing mount is an error to report, not a directory to create. */
  constructor(root: string) {
    this.root = resolve(root);
    this.location = this.root + sep;
    this.stagingDir = join(this.root, ".staging");
  }

  private path(key: string): string {
    assertKey(key);
    return join(this.root, ...key.split("/"));
  }

  private async checkRoot(): Promise<void> {
    const s = await stat(this.root).catch((err: unknown) => {
      if (errno(err) === "ENOENT") return undefined;
      throw this.fail(err, "reach");
    });
    if (s === undefined)
      throw new SnapshotStoreError(
        "StoreMissing",
        `snapshot directory ${this.root} does not exist; mount the snapshot PVC there or fix spec.snapshot.store.pvc`,
      );
    if (!s.isDirectory())
      throw new SnapshotStoreError("StoreMissing", `snapshot store path ${this.root} is not a directory`);
  }

  private fail(err: unknown, what: string, key?: string): SnapshotStoreError {
    const where = key === undefined ? this.location : join(this.root, key);
    const code = errno(err);
    if (code === "EACCES" || code === "EPERM")
      return new SnapshotStoreError(
        "AccessDenied",
        `cannot ${what} ${where}: permission denied; give the pod's user write access to the snapshot volume (fsGroup)`,
      );
    return new SnapshotStoreError("Failed", `cannot ${what} ${where}: ${(err as Error).message}`);
  }

  private notFound(key: string): SnapshotStoreError {
    return new SnapshotStoreError("NoSuchKey", `snapshot object ${key} does not exist in ${this.location}`);
  }

  async putFile(key: string, localPath: string, onProgress?: (p: PutProgress) => void): Promise<PutResult> {
    const target = this.path(key);
    await this.checkRoot();
    if (!(await stat(localPath).catch(() => undefined))?.isFile())
      throw new SnapshotStoreError("Failed", `cannot put ${key}: local file ${localPath} does not exist`);
    const { bytes } = await copyFileAtomically(localPath, target).catch((err: unknown) => {
      throw this.fail(err, "write", key);
    });
    // One kernel copy: no chunks to report on the way.
    onProgress?.({ loaded: bytes, part: 1 });
    return { bytes, parts: 1 };
  }

  async putStream(
    key: string,
    body: Readable,
    onProgress?: (p: PutProgress) => void,
  ): Promise<StreamPutResult> {
    const target = this.path(key);
    await this.checkRoot();
    const progress = onProgress && ((loaded: number) => onProgress({ loaded, part: 1 }));
    const d = digesting(body);
    const bytes = await writeFileAtomically(target, d.stream, progress).catch((err: unknown) => {
      throw this.fail(err, "write", key);
    });
    return { bytes, parts: 1, sha256: d.digest().sha256 };
  }

  async moveFile(key: string, localPath: string): Promise<PutResult> {
    const target = this.path(key);
    await this.checkRoot();
    const local = await stat(localPath).catch(() => undefined);
    if (!local?.isFile())
      throw new SnapshotStoreError("Failed", `cannot move ${localPath} to ${key}: it does not exist`);
    try {
      // Durable before it appears under its key: a crash never leaves a listed, half-written object.
      await fsyncFile(localPath);
      await mkdir(dirname(target), { recursive: true });
      try {
        await rename(localPath, target);
      } catch (err) {
        if (errno(err) !== "EXDEV") throw err;
        await copyFileAtomically(localPath, target);
        await unlink(localPath);
      }
      await syncDir(dirname(target));
    } catch (err) {
      throw this.fail(err, "move into", key);
    }
    return { bytes: local.size, parts: 1 };
  }

  async getFile(key: string, localPath: string): Promise<{ bytes: number; sha256: string }> {
    const source = this.path(key);
    await this.checkRoot();
    // Checked before the local temp file is made, so a missing object leaves nothing behind.
    const s = await stat(source).catch((err: unknown) => {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR") return undefined;
      throw this.fail(err, "read", key);
    });
    if (!s?.isFile()) throw this.notFound(key);
    // The digest is of the local copy, read back as it is fsynced: what restore checks is what it uses.
    return copyFileAtomically(source, localPath).catch((err: unknown) => {
      if (errno(err) === "ENOENT") throw this.notFound(key);
      throw this.fail(err, `copy to ${localPath}`, key);
    });
  }

  async list(prefix: string): Promise<StoredObject[]> {
    assertPrefix(prefix);
    await this.checkRoot();
    // Walk only the deepest directory the prefix names, then filter by the full prefix.
    const dirKey = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
    const out: StoredObject[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(this.root, ...rel.split("/").filter(Boolean)), {
        withFileTypes: true,
      }).catch((err: unknown) => {
        if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR") return [];
        throw this.fail(err, "list", rel);
      });
      for (const e of entries) {
        if (isPartialName(e.name) || e.name.startsWith(".")) continue;
        const key = rel === "" ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || `${key}/`.startsWith(prefix))
            await walk(key);
        } else if (e.isFile() && key.startsWith(prefix)) {
          out.push({ key, bytes: (await stat(join(this.root, ...key.split("/")))).size });
        }
      }
    };
    await walk(dirKey);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deletePrefix(prefix: string): Promise<number> {
    const objects = await this.list(prefix);
    const dirs = new Set<string>();
    for (const o of objects) {
      const p = join(this.root, ...o.key.split("/"));
      await unlink(p).catch((err: unknown) => {
        if (errno(err) !== "ENOENT") throw this.fail(err, "delete", o.key);
      });
      for (let d = dirname(p); d.startsWith(this.root + sep); d = dirname(d)) dirs.add(d);
    }
    // Deepest first, so a snapshot's emptied folders go too; a folder still holding something stays.
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
      await rmdir(d).catch(() => {});
    }
    if (objects.length > 0) await syncDir(this.root);
    return objects.length;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    const target = this.path(key);
    await this.checkRoot();
    await writeFileAtomically(
      target,
      Readable.from([Buffer.from(JSON.stringify(value, null, 2) + "\n")]),
    ).catch((err: unknown) => {
      throw this.fail(err, "write", key);
    });
  }

  async getJson(key: string): Promise<unknown> {
    const chunks: Buffer[] = [];
    const path = this.path(key);
    await this.checkRoot();
    try {
      if ((await stat(path)).size > MAX_JSON_BYTES) throw tooLarge(key, this.location);
      for await (const c of createReadStream(path)) chunks.push(c as Buffer);
    } catch (err) {
      if (err instanceof SnapshotStoreError) throw err;
      if (errno(err) === "ENOENT" || errno(err) === "EISDIR") throw this.notFound(key);
      throw this.fail(err, "read", key);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
      throw new SnapshotStoreError(
        "InvalidJson",
        `snapshot object ${key} in ${this.location} is not JSON (${(err as Error).message}); it is damaged or not a manifest`,
      );
    }
  }

  async head(key: string): Promise<HeadResult> {
    const path = this.path(key);
    await this.checkRoot();
    const s = await stat(path).catch((err: unknown) => {
      if (errno(err) === "ENOENT" || errno(err) === "ENOTDIR") return undefined;
      throw this.fail(err, "stat", key);
    });
    return s?.isFile() ? { exists: true, bytes: s.size } : { exists: false };
  }
}
