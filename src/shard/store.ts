// The shard's source of truth: SQLite (better-sqlite3) in WAL mode. One row per id ever written;
// a delete keeps a tombstone row (deleted=1, payload dropped) so the delete has a seq that a replay
// after a checkpoint can see, and so the id keeps its hnswlib label if it comes back. A delete of an id
// the shard never had leaves a tombstone too: during a generation change the backfill's `ifAbsent`
// copy of that id may arrive later, and the tombstone is what makes it skip instead of resurrecting it.
//
// Tombstone rows are kept for as long as the shard (its data dir) lives. Nothing in the shard removes
// them: graph compaction (compaction.ts) only rebuilds the hnswlib graph without its deleted elements,
// and checkpoints (checkpoint.ts) only delete older graph files. Purging tombstone rows would be an
// explicit operator action on a stopped shard, never automatic, and only once no backfill writes to
// this generation any more. The cost is one small row per deleted id (stats.tombstones counts them).
//
// The meta table holds the store's own keys (schemaVersion, identity) and, under `user:<key>`, the
// small values PUT /v1/meta stores (the backfill's cursor); the key pattern has no ':' so they never meet.
import { mkdirSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { pidAlive } from "../util/pid-alive.js";
import { inUseMessage, readOwner, removeOwner, writeOwner } from "./data-dir-owner.js";
import { ShardConfigError } from "./errors.js";
import type { Metric } from "./score.js";
import type { DecodedPoint } from "./wire.js";
import { float32ToBytes } from "./wire.js";

/**
 * full: fsync the WAL at every commit; an acknowledged write survives power loss / kernel panic.
 * normal: fsync only at WAL checkpoints; survives kill -9 (the OS still has the pages) but the last
 * commits can vanish on power loss. Default full: an acknowledgement is a promise, and with batches of
 * hundreds of vectors the one fsync per batch is small next to the graph inserts (see the report).
 */
export type SyncMode = "full" | "normal";

export interface StoreIdentity {
  dimension: number;
  metric: Metric;
  fingerprint: string;
}

export interface StoredRow {
  label: number;
  id: string;
  seq: number;
  deleted: number;
  vector: Buffer | null;
  metadata: string | null;
  text: string | null;
}

/** What a committed write changed, so the graph and filter index can follow. */
export interface AppliedUpsert {
  label: number;
  id: string;
  vector: Float32Array;
  metadata: Record<string, unknown> | null;
  /** Metadata of the live row this replaced (null when the id was new or deleted). */
  previousMetadata: Record<string, unknown> | null;
  wasLive: boolean;
}

export interface AppliedDelete {
  label: number;
  previousMetadata: Record<string, unknown> | null;
}

export interface UpsertOptions {
  /** Skip ids with any row (live or tombstone), checked in the same transaction as the inserts. */
  ifAbsent?: boolean;
}

const userMetaPrefix = "user:";

const schemaVersion = "1";

export class Store {
  private readonly db: Database.Database;
  private readonly stmts;
  lastSeq: number;
  private nextLabel: number;
  readonly path: string;
  private readonly dataDir: string;

  private constructor(db: Database.Database, dataDir: string) {
    this.db = db;
    this.dataDir = dataDir;
    this.path = join(dataDir, "shard.db");
    this.stmts = {
      byId: db.prepare<[string], Pick<StoredRow, "label" | "deleted" | "metadata">>(
        "SELECT label, deleted, metadata FROM points WHERE id = ?",
      ),
      full: db.prepare<[string], StoredRow>("SELECT * FROM points WHERE id = ? AND deleted = 0"),
      insert: db.prepare(
        "INSERT INTO points (label, id, seq, deleted, vector, metadata, text) VALUES (?, ?, ?, 0, ?, ?, ?)",
      ),
      insertTombstone: db.prepare("INSERT INTO points (label, id, seq, deleted) VALUES (?, ?, ?, 1)"),
      getMeta: db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      putMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      update: db.prepare(
        "UPDATE points SET seq = ?, deleted = 0, vector = ?, metadata = ?, text = ? WHERE label = ?",
      ),
      tombstone: db.prepare(
        "UPDATE points SET seq = ?, deleted = 1, vector = NULL, metadata = NULL, text = NULL WHERE label = ?",
      ),
      // Only the columns a query asked for: a document's text can be a megabyte.
      metaByLabels: db.prepare<[string], Pick<StoredRow, "label" | "metadata">>(
        "SELECT label, metadata FROM points WHERE label IN (SELECT value FROM json_each(?)) AND deleted = 0",
      ),
      textByLabels: db.prepare<[string], Pick<StoredRow, "label" | "text">>(
        "SELECT label, text FROM points WHERE label IN (SELECT value FROM json_each(?)) AND deleted = 0",
      ),
      bothByLabels: db.prepare<[string], Pick<StoredRow, "label" | "metadata" | "text">>(
        "SELECT label, metadata, text FROM points WHERE label IN (SELECT value FROM json_each(?)) AND deleted = 0",
      ),
      liveMeta: db.prepare<[], Pick<StoredRow, "label" | "id" | "metadata">>(
        "SELECT label, id, metadata FROM points WHERE deleted = 0",
      ),
      after: db.prepare<[number, number], Pick<StoredRow, "label" | "seq" | "deleted" | "vector">>(
        "SELECT label, seq, deleted, vector FROM points WHERE seq > ? ORDER BY seq LIMIT ?",
      ),
      liveVectorPage: db.prepare<[number, number, number], Pick<StoredRow, "label" | "vector">>(
        "SELECT label, vector FROM points WHERE deleted = 0 AND seq <= ? AND label > ? ORDER BY label LIMIT ?",
      ),
      vectorByLabel: db.prepare<[number], Pick<StoredRow, "vector">>(
        "SELECT vector FROM points WHERE label = ? AND deleted = 0",
      ),
      scan: db.prepare<[number, number], Pick<StoredRow, "id" | "seq" | "metadata" | "text">>(
        "SELECT id, seq, metadata, text FROM points WHERE deleted = 0 AND seq > ? ORDER BY seq LIMIT ?",
      ),
      counts: db.prepare<[], { live: number; tombstones: number }>(
        "SELECT COALESCE(SUM(deleted = 0), 0) AS live, COALESCE(SUM(deleted = 1), 0) AS tombstones FROM points",
      ),
    };
    const max = db.prepare<[], { seq: number | null; label: number | null }>(
      "SELECT MAX(seq) AS seq, MAX(label) AS label FROM points",
    );
    const m = max.get();
    this.lastSeq = m?.seq ?? 0;
    this.nextLabel = (m?.label ?? -1) + 1;
  }

  /**
   * Open (creating if needed), holding the directory against any other process, and check that it
   * belongs to this generation. `shardId` is recorded in owner.json to name this holder to others.
   */
  static open(dataDir: string, identity: StoreIdentity, sync: SyncMode, shardId: string): Store {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, "shard.db");
    const db = new Database(path, { timeout: 2000 });
    try {
      // EXCLUSIVE before WAL: no -shm file, and this connection holds an exclusive lock on
      // shard.db until it closes (or the process dies), so a second shard process on the same
      // directory is refused, even a reader (its answers would miss our writes, its writes our graph).
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
        CREATE TABLE IF NOT EXISTS points (
          label INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          seq INTEGER NOT NULL UNIQUE,
          deleted INTEGER NOT NULL DEFAULT 0,
          vector BLOB,
          metadata TEXT,
          text TEXT
        ) STRICT;
      `);
    } catch (err) {
      const msg = (err as Error).message;
      if (/locked|busy/i.test(msg)) {
        db.close();
        const owner = readOwner(dataDir);
        throw new ShardConfigError(
          inUseMessage(dataDir, {
            owner,
            ownerAlive: owner !== undefined && pidAlive(owner.pid),
            thisHost: hostname(),
          }),
        );
      }
      throw err;
    }
    checkIdentity(db, dataDir, identity);
    writeOwner(dataDir, { pid: process.pid, host: hostname(), shardId, startedAt: new Date().toISOString() });
    return new Store(db, dataDir);
  }

  getLive(id: string): StoredRow | undefined {
    return this.stmts.full.get(id);
  }

  /**
   * Commit a batch as one transaction; returns only after the commit (the acknowledgement point).
   * With `ifAbsent`, ids that have any row are left alone and counted in `skipped`.
   */
  upsert(
    points: readonly DecodedPoint[],
    options: UpsertOptions = {},
  ): { applied: AppliedUpsert[]; skipped: number } {
    let seq = this.lastSeq;
    let next = this.nextLabel;
    let skipped = 0;
    const run = this.db.transaction((batch: readonly DecodedPoint[]) => {
      const applied: AppliedUpsert[] = [];
      for (const p of batch) {
        const existing = this.stmts.byId.get(p.id);
        if (existing && options.ifAbsent) {
          skipped++;
          continue;
        }
        seq++;
        const metadata = p.metadata === null ? null : JSON.stringify(p.metadata);
        const blob = float32ToBytes(p.vector);
        if (existing) {
          this.stmts.update.run(seq, blob, metadata, p.text, existing.label);
          const wasLive = existing.deleted === 0;
          applied.push({
            label: existing.label,
            id: p.id,
            vector: p.vector,
            metadata: p.metadata,
            previousMetadata: wasLive ? parseMeta(existing.metadata) : null,
            wasLive,
          });
        } else {
          const label = next++;
          this.stmts.insert.run(label, p.id, seq, blob, metadata, p.text);
          applied.push({
            label,
            id: p.id,
            vector: p.vector,
            metadata: p.metadata,
            previousMetadata: null,
            wasLive: false,
          });
        }
      }
      return applied;
    });
    const applied = run(points);
    this.lastSeq = seq;
    this.nextLabel = next;
    return { applied, skipped };
  }

  /**
   * Tombstone `ids` in one transaction. Live ids are returned (the graph must drop them); an id the
   * shard never had gets a tombstone row of its own (with a seq, no label in the graph); an id already
   * deleted is left as it is.
   */
  delete(ids: readonly string[]): AppliedDelete[] {
    let seq = this.lastSeq;
    let next = this.nextLabel;
    const run = this.db.transaction((list: readonly string[]) => {
      const applied: AppliedDelete[] = [];
      for (const id of new Set(list)) {
        const existing = this.stmts.byId.get(id);
        if (!existing) {
          seq++;
          this.stmts.insertTombstone.run(next++, id, seq);
          continue;
        }
        if (existing.deleted !== 0) continue;
        seq++;
        this.stmts.tombstone.run(seq, existing.label);
        applied.push({ label: existing.label, previousMetadata: parseMeta(existing.metadata) });
      }
      return applied;
    });
    const applied = run(ids);
    this.lastSeq = seq;
    this.nextLabel = next;
    return applied;
  }

  /** A value stored by PUT /v1/meta (JSON text), or undefined. */
  getUserMeta(key: string): string | undefined {
    return this.stmts.getMeta.get(userMetaPrefix + key)?.value;
  }

  /** One autocommit statement: durable under the same `synchronous` setting as point writes. */
  putUserMeta(key: string, json: string): void {
    this.stmts.putMeta.run(userMetaPrefix + key, json);
  }

  /** Metadata and/or text of live rows, by label (ids come from the shard's in-memory IdTable). */
  detailsByLabels(
    labels: readonly number[],
    want: { metadata: boolean; text: boolean },
  ): Map<number, { metadata?: string | null; text?: string | null }> {
    const out = new Map<number, { metadata?: string | null; text?: string | null }>();
    if (labels.length === 0 || (!want.metadata && !want.text)) return out;
    const stmt = want.metadata
      ? want.text
        ? this.stmts.bothByLabels
        : this.stmts.metaByLabels
      : this.stmts.textByLabels;
    for (const r of stmt.all(JSON.stringify(labels))) out.set(r.label, r);
    return out;
  }

  vectorOf(label: number): Float32Array | undefined {
    const r = this.stmts.vectorByLabel.get(label);
    return r?.vector ? toFloat32(r.vector) : undefined;
  }

  liveMetadata(): Pick<StoredRow, "label" | "id" | "metadata">[] {
    return this.stmts.liveMeta.all();
  }

  /**
   * Rows (live or tombstone) written after `seq`, oldest first, one page at a time: the replay after a
   * checkpoint. Pages, not an iterator, so the caller can yield to the event loop between them (an
   * open better-sqlite3 iterator would block every other statement on the connection).
   */
  rowsAfter(seq: number, limit: number): Pick<StoredRow, "label" | "seq" | "deleted" | "vector">[] {
    return this.stmts.after.all(seq, limit);
  }

  /** Keyset page of live vectors with seq <= maxSeq, for rebuilds that must not block for long. */
  liveVectorPage(maxSeq: number, afterLabel: number, limit: number): Pick<StoredRow, "label" | "vector">[] {
    return this.stmts.liveVectorPage.all(maxSeq, afterLabel, limit);
  }

  scan(afterSeq: number, limit: number): Pick<StoredRow, "id" | "seq" | "metadata" | "text">[] {
    return this.stmts.scan.all(afterSeq, limit);
  }

  private peerStmts:
    | {
        page: Database.Statement<[number, number], PeerRow>;
        byId: Database.Statement<[string], Pick<StoredRow, "label" | "seq" | "deleted" | "metadata">>;
      }
    | undefined;

  private peer() {
    this.peerStmts ??= {
      page: this.db.prepare<[number, number], PeerRow>(
        "SELECT id, seq, deleted, vector, metadata, text FROM points WHERE seq > ? ORDER BY seq LIMIT ?",
      ),
      byId: this.db.prepare<[string], Pick<StoredRow, "label" | "seq" | "deleted" | "metadata">>(
        "SELECT label, seq, deleted, metadata FROM points WHERE id = ?",
      ),
    };
    return this.peerStmts;
  }

  /** Rows written after `seq` (tombstones included) with their payload, oldest first: what a syncing replica copies. */
  peerRowsAfter(seq: number, limit: number): PeerRow[] {
    return this.peer().page.all(seq, limit);
  }

  /**
   * A syncing replica's catch-up: a page of a peer's rows in one transaction, each applied only where
   * applyPeerRow says so (`joinedAtSeq`: this replica's lastSeq when the catch-up began, every row
   * after it came from the router and is newer than the peer's copy). Tombstones delete.
   */
  applyPeerRows(
    rows: readonly DecodedPeerRow[],
    joinedAtSeq: number,
  ): { upserts: AppliedUpsert[]; deletes: AppliedDelete[]; skipped: number } {
    let seq = this.lastSeq;
    let next = this.nextLabel;
    let skipped = 0;
    const stmts = this.peer();
    const run = this.db.transaction((batch: readonly DecodedPeerRow[]) => {
      const upserts: AppliedUpsert[] = [];
      const deletes: AppliedDelete[] = [];
      for (const row of batch) {
        const existing = stmts.byId.get(row.id);
        if (!applyPeerRow(existing?.seq, joinedAtSeq)) {
          skipped++;
          continue;
        }
        if (row.vector === null) {
          if (!existing) this.stmts.insertTombstone.run(next++, row.id, ++seq);
          else if (existing.deleted === 0) {
            this.stmts.tombstone.run(++seq, existing.label);
            deletes.push({ label: existing.label, previousMetadata: parseMeta(existing.metadata) });
          }
          continue;
        }
        const metadata = row.metadata === null ? null : JSON.stringify(row.metadata);
        const blob = float32ToBytes(row.vector);
        const wasLive = existing?.deleted === 0;
        let label: number;
        if (existing) {
          label = existing.label;
          this.stmts.update.run(++seq, blob, metadata, row.text, label);
        } else {
          label = next++;
          this.stmts.insert.run(label, row.id, ++seq, blob, metadata, row.text);
        }
        upserts.push({
          label,
          id: row.id,
          vector: row.vector,
          metadata: row.metadata,
          previousMetadata: wasLive ? parseMeta(existing.metadata) : null,
          wasLive,
        });
      }
      return { upserts, deletes };
    });
    const out = run(rows);
    this.lastSeq = seq;
    this.nextLabel = next;
    return { ...out, skipped };
  }

  counts(): { live: number; tombstones: number } {
    return this.stmts.counts.get() ?? { live: 0, tombstones: 0 };
  }

  /**
   * SQLite's online backup of this connection's database to `path` (a new file). better-sqlite3 copies
   * a batch of pages per event-loop turn, so reads go on meanwhile; the caller holds the writers off,
   * so the copy is exactly the database at the current lastSeq.
   */
  async backupTo(path: string): Promise<void> {
    await this.db.backup(path);
  }

  /**
   * Folds the WAL into the database file (checkpoint TRUNCATE). True when it completed: the file at
   * `path` alone then holds every commit, so with the writers held it may be copied as a plain file.
   */
  foldWal(): boolean {
    const [r] = this.db.pragma("wal_checkpoint(TRUNCATE)") as {
      busy: number;
      log: number;
      checkpointed: number;
    }[];
    return r !== undefined && r.busy === 0 && r.log === r.checkpointed;
  }

  diskBytes(): number {
    let total = 0;
    for (const suffix of ["", "-wal", "-shm"]) {
      try {
        total += statSync(this.path + suffix).size;
      } catch {
        // -wal/-shm exist only at times; absence is not an error
      }
    }
    return total;
  }

  close(): void {
    // Fold the WAL into the main file so a clean stop leaves one file (and a fast next open).
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    // While the lock is still ours, so a successor's record is never removed.
    removeOwner(this.dataDir, process.pid);
    this.db.close();
  }
}

/** A row as a peer sends it to a syncing replica: a tombstone has deleted=1 and no vector. */
export type PeerRow = Pick<StoredRow, "id" | "seq" | "deleted" | "vector" | "metadata" | "text">;

/** A peer row decoded: `vector` null means the id is deleted. */
export interface DecodedPeerRow {
  id: string;
  vector: Float32Array | null;
  metadata: Record<string, unknown> | null;
  text: string | null;
}

/**
 * The catch-up rule: a peer's row replaces ours only when we have no row for the id, or ours is no
 * newer than `joinedAtSeq` (it came from the seed copy or an earlier catch-up). A row we wrote after
 * that came from the router after this replica joined its write set: newer than anything the peer
 * held before, so it is never overwritten.
 */
export function applyPeerRow(localSeq: number | undefined, joinedAtSeq: number): boolean {
  return localSeq === undefined || localSeq <= joinedAtSeq;
}

export function toFloat32(blob: Buffer): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}

export function parseMeta(text: string | null): Record<string, unknown> | null {
  return text === null ? null : (JSON.parse(text) as Record<string, unknown>);
}

function checkIdentity(db: Database.Database, dataDir: string, identity: StoreIdentity): void {
  const rows = db.prepare<[], { key: string; value: string }>("SELECT key, value FROM meta").all();
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.size === 0) {
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    db.transaction(() => {
      put.run("schemaVersion", schemaVersion);
      put.run("dimension", String(identity.dimension));
      put.run("metric", identity.metric);
      put.run("fingerprint", identity.fingerprint);
      put.run("createdAt", new Date().toISOString());
    })();
    return;
  }
  const wanted: Record<string, string> = {
    dimension: String(identity.dimension),
    metric: identity.metric,
    fingerprint: identity.fingerprint,
  };
  for (const [key, value] of Object.entries(wanted)) {
    const stored = meta.get(key);
    if (stored !== value) {
      throw new ShardConfigError(
        `data dir ${dataDir} holds an index generation with ${key}=${stored}, but this start has --${key} ${value}. ` +
          `A shard's data belongs to one generation (dimension, metric, model fingerprint): start with --${key} ${stored} ` +
          "to serve it, or point --data-dir at a new, empty directory for the new generation.",
      );
    }
  }
}
