// Who holds a shard's data dir. The lock itself is SQLite's: shard.db is opened with
// locking_mode=EXCLUSIVE before WAL mode, which holds an exclusive lock on the file for the
// connection's life (see store.ts). The kernel drops that lock when the process dies, however it
// dies, so it is never stale — unlike a lock file, which a SIGKILL leaves behind and which needs a
// pid-liveness guess (and pid reuse makes that a guess). The lock does not say who holds it, so the
// holder writes owner.json once it has the lock, and a refused shard reads it to name the holder.
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

const dataDirOwner = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  shardId: z.string(),
  startedAt: z.string(),
});
export type DataDirOwner = z.infer<typeof dataDirOwner>;

export function ownerPath(dataDir: string): string {
  return join(dataDir, "owner.json");
}

/** Record this process as the holder; call only while holding the database lock. */
export function writeOwner(dataDir: string, owner: DataDirOwner): void {
  const path = ownerPath(dataDir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(owner)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** The recorded holder, or undefined when there is none or it is unreadable. */
export function readOwner(dataDir: string): DataDirOwner | undefined {
  let text: string;
  try {
    text = readFileSync(ownerPath(dataDir), "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = dataDirOwner.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Remove the record if it names `pid`; call before releasing the lock, so it never removes a successor's. */
export function removeOwner(dataDir: string, pid: number): void {
  if (readOwner(dataDir)?.pid === pid) rmSync(ownerPath(dataDir), { force: true });
}

export interface HolderFacts {
  /** The data dir's owner.json, if readable. */
  owner: DataDirOwner | undefined;
  /** Whether owner.pid is a live process (only meaningful when owner.host is this host). */
  ownerAlive: boolean;
  thisHost: string;
}

/** Why a shard cannot open `dataDir` while another process holds its lock: who holds it, and the fix. */
export function inUseMessage(dataDir: string, facts: HolderFacts): string {
  const rule = "one shard owns one data dir";
  const { owner } = facts;
  if (owner && owner.host !== facts.thisHost) {
    return (
      `data dir ${dataDir} is held by shard "${owner.shardId}" on host ${owner.host} (pid ${owner.pid} there, ` +
      `started ${owner.startedAt}); ${rule}: stop that shard or pass another --data-dir`
    );
  }
  if (owner && facts.ownerAlive) {
    return (
      `data dir ${dataDir} is held by another shard process, pid ${owner.pid} (shard "${owner.shardId}", ` +
      `started ${owner.startedAt}); ${rule}: stop it (kill ${owner.pid}) or pass another --data-dir`
    );
  }
  const record = owner
    ? `its owner.json names pid ${owner.pid}, which is not running`
    : "it has no readable owner.json";
  return (
    `data dir ${dataDir} is held by another process (${record}: an older embedops shard, or a tool such ` +
    `as sqlite3 with shard.db open); ${rule}: find the holder with "fuser -v ${join(dataDir, "shard.db")}", ` +
    `stop it, or pass another --data-dir`
  );
}
