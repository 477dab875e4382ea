// The shard's snapshot API (internal; `embedops snapshot create` is the caller):
//   POST   /v1/snapshot {dir}          a consistent copy into `dir` on the shard's host (same-host callers)
//   POST   /v1/snapshot {}             a copy kept under the data dir, answered with its id and files
//   GET    /v1/snapshot/:copy/files/:name   one file of that copy, streamed
//   DELETE /v1/snapshot/:copy          removes the copy once the caller has it
// The second form is what works in a cluster, where the caller is another pod and cannot read the
// shard's disk. Copies left behind by a caller that died are removed after COPY_MAX_AGE_MS.
import { open, readdir, rm, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { pipeline } from "node:stream/promises";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "../util/log.js";
import { badRequest, HttpError } from "./errors.js";
import type { Shard } from "./shard.js";
import { copiesDir, isCopyFileName, isCopyId, newCopyId, staleCopies } from "./snapshot-copies.js";

/** Big reads keep the per-chunk overhead (a thread-pool round trip, a socket write) small. */
const READ_CHUNK = 1024 * 1024;

export function mountSnapshotRoutes(app: express.Express, shard: Shard, log: Logger): void {
  const dir = copiesDir(shard.config.dataDir);
  const json = express.json({ limit: "64kb", strict: false });
  const needReady = (_req: Request, _res: Response, next: NextFunction) => {
    next(
      shard.ready ? undefined : new HttpError(503, "shard is loading its index (see /readyz); retry shortly"),
    );
  };

  const removeStale = async (): Promise<void> => {
    const entries = await readdir(dir).catch(() => [] as string[]);
    const withTimes = [];
    for (const name of entries) {
      const s = await stat(join(dir, name)).catch(() => undefined);
      if (s) withTimes.push({ name, mtimeMs: s.mtimeMs });
    }
    for (const name of staleCopies(withTimes, Date.now())) {
      await rm(join(dir, name), { recursive: true, force: true });
      log.warn("stale snapshot copy removed", {
        copy: name,
        reason: "older than an hour; its snapshot died",
      });
    }
  };
  removeStale().catch((err: unknown) => log.error("cannot remove stale snapshot copies", { dir, err }));

  const copyDir = (id: unknown): string => {
    if (typeof id !== "string" || !isCopyId(id))
      throw badRequest("copy", "is not a snapshot copy id this shard made (POST /v1/snapshot answers one)");
    return join(dir, id);
  };

  app.post("/v1/snapshot", needReady, json, async (req, res) => {
    if (!req.is("application/json"))
      throw new HttpError(
        415,
        `unsupported Content-Type "${req.get("content-type") ?? ""}"; send application/json`,
      );
    const target = (req.body as { dir?: unknown } | null)?.dir;
    if (target !== undefined) {
      if (typeof target !== "string" || !isAbsolute(target))
        throw badRequest("dir", "must be an absolute path to a new or empty directory on the shard's host");
      res.json(await shard.snapshotTo(target));
      return;
    }
    await removeStale();
    const copy = newCopyId(Date.now());
    try {
      // The copy is only read, then deleted: the graph checkpoint may be hard-linked into it.
      res.json({ ...(await shard.snapshotTo(join(dir, copy), { linkGraph: true })), copy });
    } catch (err) {
      await rm(join(dir, copy), { recursive: true, force: true });
      throw err;
    }
  });

  app.get("/v1/snapshot/:copy/files/:name", async (req, res) => {
    const base = copyDir(req.params.copy);
    const name = req.params.name;
    if (typeof name !== "string" || !isCopyFileName(name)) throw badRequest("name", "is not a file name");
    const fh = await open(join(base, name), "r").catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        throw new HttpError(
          404,
          `snapshot copy ${req.params.copy} has no file ${name} (removed, or older than an hour); take a new copy`,
          "name",
        );
      throw err;
    });
    try {
      const { size } = await fh.stat();
      res.setHeader("Content-Type", "application/octet-stream");
      res.setHeader("Content-Length", String(size));
      await pipeline(fh.createReadStream({ highWaterMark: READ_CHUNK, autoClose: false }), res);
    } finally {
      await fh.close();
    }
  });

  app.delete("/v1/snapshot/:copy", async (req, res) => {
    const base = copyDir(req.params.copy);
    const existed = (await stat(base).catch(() => undefined)) !== undefined;
    await rm(base, { recursive: true, force: true });
    res.json({ copy: req.params.copy, removed: existed });
  });
}
