// One shard of one index generation: the SQLite store is the truth, the HNSW graph follows it.
// Writes commit to SQLite first (the acknowledgement point), then update the graph and the filter
// index; checkpoints let a restart skip most of the graph rebuild; compaction drops tombstones.
import { copyFile, link, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldNow } from "node:timers/promises";
import { copyHashed, startCopyHashed } from "../util/copy-hashed.js";
import type { Logger } from "../util/log.js";
import {
  commitCheckpoint,
  dirBytes,
  ensureDir,
  findCheckpoint,
  sha256File,
  tempGraphPath,
} from "./checkpoint.js";
import { checkpointBaseName, parseSidecar } from "./checkpoint-choice.js";
import { type CompactionPolicy, defaultCompactionPolicy, shouldCompact } from "./compaction.js";
import { HttpError } from "./errors.js";
import { FilterIndex } from "./filter-index.js";
import { HnswIndex, type HnswParams } from "./hnsw-index.js";
import { IdTable } from "./id-table.js";
import { createShardMetrics, type ShardMetrics } from "./metrics.js";
import { exactTopK, type Metric, type Neighbor, type ScoreKind, scoreKind, toScore } from "./score.js";
import {
  type DecodedPeerRow,
  parseMeta,
  Store,
  type SyncMode,
  toFloat32,
  type UpsertOptions,
} from "./store.js";
import type { DecodedPoint, ParsedQuery } from "./wire.js";

export interface ShardConfig {
  dataDir: string;
  shardId: string;
  dimension: number;
  metric: Metric;
  fingerprint: string;
  m: number;
  efConstruction: number;
  efSearch: number;
  checkpointIntervalSeconds: number;
  sync: SyncMode;
  compaction?: CompactionPolicy;
  /** A filter matching at most this many points is answered by an exact scan, not a graph walk. */
  exactFilterMax?: number;
}

export const shardDefaults = {
  m: 16,
  efConstruction: 200,
  efSearch: 64,
  checkpointIntervalSeconds: 30,
  sync: "full" as SyncMode,
  // Measured: reading vectors back through getPoint (one JS array per vector) costs more than a filtered
  // graph walk beyond a few hundred candidates (exact over 1,000 candidates: p50 255 ms; filtered walk
  // over 10,000 candidates at 100k points: p50 31 ms; same contended 2-core machine).
  exactFilterMax: 256,
};

/** The database file in a shard's data dir and in a snapshot copy (checkpoints sit in checkpoints/ there). */
export const snapshotDatabaseFile = "shard.db";

/** What POST /v1/snapshot answers: the copy's files with size and sha256, and what they hold. */
export interface ShardCopy {
  shardId: string;
  fingerprint: string;
  metric: Metric;
  dimension: number;
  hnsw: { m: number; efConstruction: number };
  vectorCount: number;
  /** Every write with seq <= this is in the copy, none after it. */
  seq: number;
  files: { name: string; bytes: number; sha256: string }[];
}

export interface QueryResult {
  results: { id: string; score: number; metadata?: Record<string, unknown> | null; text?: string | null }[];
  scoreKind: ScoreKind;
  tookMs: number;
}

const pageSize = 512;

/** Serialises writers: SQLite commits, graph mutations and the checkpoint's graph dump never interleave. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class Shard {
  readonly metrics: ShardMetrics;
  private readonly store: Store;
  private readonly filters = new FilterIndex();
  private readonly ids = new IdTable();
  private index: HnswIndex;
  private readonly writes = new Mutex();
  private readonly checkpointDir: string;
  private readonly params: HnswParams;
  private checkpointSeq = -1;
  private replayed = 0;
  private state: "loading" | "ready" | "closing" | "closed" = "loading";
  private loading: Promise<void> | null = null;
  private checkpointing: Promise<void> | null = null;
  private compacting: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;

  /** Opens the database and checks the data dir's identity; throws ShardConfigError on a mismatch. */
  constructor(
    readonly config: ShardConfig,
    private readonly log: Logger,
  ) {
    this.store = Store.open(
      config.dataDir,
      { dimension: config.dimension, metric: config.metric, fingerprint: config.fingerprint },
      config.sync,
      config.shardId,
    );
    this.checkpointDir = join(config.dataDir, "checkpoints");
    this.params = {
      dimension: config.dimension,
      metric: config.metric,
      m: config.m,
      efConstruction: config.efConstruction,
      efSearch: config.efSearch,
    };
    this.index = HnswIndex.create(this.params, 0);
    this.metrics = createShardMetrics(config.shardId, () => this.index.liveCount);
  }

  get ready(): boolean {
    return this.state === "ready";
  }

  /** Load the newest good checkpoint (or rebuild) and replay newer rows. Yields often: /healthz answers. */
  load(): Promise<void> {
    this.loading ??= this.doLoad();
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    const started = performance.now();
    await ensureDir(this.checkpointDir);
    const live = new Set<number>();
    const metaRows = this.store.liveMetadata();
    for (let i = 0; i < metaRows.length; i++) {
      const row = metaRows[i] as (typeof metaRows)[number];
      live.add(row.label);
      this.ids.set(row.label, row.id);
      this.filters.add(row.label, parseMeta(row.metadata));
      if (i % 10_000 === 9_999) await yieldNow();
    }
    const lastSeq = this.store.lastSeq;
    const found = await findCheckpoint(this.checkpointDir, this.params, lastSeq, (file, reason) =>
      this.log.warn("checkpoint unusable, ignoring it", { file, reason }),
    );
    let fromSeq = 0;
    let source: "checkpoint" | "rebuild" = "rebuild";
    if (found) {
      try {
        this.index = await HnswIndex.load(this.params, found.graphFile, (l) => live.has(l));
        fromSeq = found.sidecar.seq;
        this.checkpointSeq = fromSeq;
        source = "checkpoint";
      } catch (err) {
        this.log.warn("checkpoint unreadable, rebuilding the graph from the database", {
          file: found.graphFile,
          err,
        });
      }
    } else if (lastSeq > 0) {
      this.log.warn("no usable checkpoint, rebuilding the graph from the database", { rows: live.size });
    }
    if (source === "rebuild") this.index = HnswIndex.create(this.params, live.size);
    const counts = await this.replay(fromSeq, () => this.state === "closing");
    // A checkpoint that lacks a live row older than itself would be a bug; heal rather than serve a hole.
    let healed = 0;
    for (const label of live) {
      if (this.index.has(label)) continue;
      const v = this.store.vectorOf(label);
      if (v) {
        this.index.upsert(label, v);
        healed++;
      }
    }
    if (healed > 0)
      this.log.warn("checkpoint lacked live rows; added them from the database", { rows: healed });
    this.replayed = counts.upserts + counts.deletes;
    this.metrics.replayedRows.inc(this.replayed);
    this.log.info("loaded", {
      source,
      checkpointSeq: found && source === "checkpoint" ? fromSeq : null,
      lastSeq,
      replayedRows: this.replayed,
      replayedUpserts: counts.upserts,
      replayedDeletes: counts.deletes,
      points: this.index.liveCount,
      ms: Math.round(performance.now() - started),
    });
    if (this.state === "loading") this.state = "ready";
    this.scheduleMaintenance();
    if (this.checkpointSeq !== this.store.lastSeq) {
      // Make the next start fast; failures are logged by checkpoint() and retried on the interval.
      void this.checkpoint("after-load").catch(() => undefined);
    }
  }

  /** Apply every row written after `fromSeq` to the current graph, a page at a time. */
  private async replay(fromSeq: number, abort: () => boolean): Promise<{ upserts: number; deletes: number }> {
    let upserts = 0;
    let deletes = 0;
    let after = fromSeq;
    for (;;) {
      const page = this.store.rowsAfter(after, pageSize);
      if (page.length === 0) break;
      for (const row of page) {
        if (row.deleted === 0 && row.vector) {
          this.index.upsert(row.label, toFloat32(row.vector));
          upserts++;
        } else {
          this.index.remove(row.label);
          deletes++;
        }
      }
      after = (page[page.length - 1] as (typeof page)[number]).seq;
      if (abort()) break;
      await yieldNow();
    }
    return { upserts, deletes };
  }

  private assertWritable(): void {
    if (this.state !== "ready") {
      throw new HttpError(503, `shard is ${this.state}; retry shortly`);
    }
  }

  upsert(
    points: readonly DecodedPoint[],
    options: UpsertOptions = {},
  ): Promise<{ upserted: number; skipped: number; lastSeq: number }> {
    return this.writes.run(() => {
      this.assertWritable();
      const { applied, skipped } = this.store.upsert(points, options);
      // Committed: from here on the write is durable even if the graph update below fails; the next
      // start replays it. The graph and filter index are updated before we answer (read-your-writes).
      this.index.reserve(this.index.totalCount + applied.length);
      for (const a of applied) {
        this.index.upsert(a.label, a.vector);
        this.ids.set(a.label, a.id);
        if (a.wasLive) this.filters.remove(a.label, a.previousMetadata);
        this.filters.add(a.label, a.metadata);
      }
      this.metrics.pointsUpserted.inc(applied.length);
      return { upserted: applied.length, skipped, lastSeq: this.store.lastSeq };
    });
  }

  /** `deleted` counts live ids; the others are `notFound`, yet each unknown one now has a tombstone. */
  delete(ids: readonly string[]): Promise<{ deleted: number; notFound: number; lastSeq: number }> {
    return this.writes.run(() => {
      this.assertWritable();
      const applied = this.store.delete(ids);
      for (const a of applied) {
        this.index.remove(a.label);
        this.ids.delete(a.label);
        this.filters.remove(a.label, a.previousMetadata);
      }
      this.metrics.pointsDeleted.inc(applied.length);
      return {
        deleted: applied.length,
        notFound: new Set(ids).size - applied.length,
        lastSeq: this.store.lastSeq,
      };
    });
  }

  query(q: ParsedQuery): QueryResult {
    if (this.state !== "ready" && this.state !== "closing")
      throw new HttpError(503, `shard is ${this.state}`);
    const started = performance.now();
    const ef = q.ef ?? this.config.efSearch;
    let neighbors: Neighbor[];
    let path: "hnsw" | "hnsw_filtered" | "exact" | "exact_requested";
    if (q.exact) {
      // The recall gate's ground truth (and a debugging aid): every live vector scored, no graph.
      const labels = q.filter.size === 0 ? this.index.liveLabels() : this.filters.candidates(q.filter);
      neighbors = this.exact(q.vector, labels, q.k);
      path = "exact_requested";
    } else if (q.filter.size === 0) {
      neighbors = zip(this.index.search(q.vector, q.k, ef));
      path = "hnsw";
    } else {
      const candidates = this.filters.candidates(q.filter);
      const want = Math.min(q.k, candidates.size);
      if (candidates.size <= (this.config.exactFilterMax ?? shardDefaults.exactFilterMax)) {
        neighbors = this.exact(q.vector, candidates, q.k);
        path = "exact";
      } else {
        neighbors = zip(this.index.search(q.vector, q.k, ef, (label) => candidates.has(label)));
        path = "hnsw_filtered";
        // hnswlib keeps walking until it has ef matches or runs out of graph, so this is rare; when the
        // graph is split around the matches, exactness is the only way to keep the k-results promise.
        if (neighbors.length < want) {
          neighbors = this.exact(q.vector, candidates, q.k);
          path = "exact";
        }
      }
    }
    // Ids come from memory; SQLite is read only for the columns the caller asked for.
    const details = this.store.detailsByLabels(
      neighbors.map((n) => n.label),
      { metadata: q.includeMetadata, text: q.includeText },
    );
    const needDetails = q.includeMetadata || q.includeText;
    const results: QueryResult["results"] = [];
    for (const n of neighbors) {
      const id = this.ids.get(n.label);
      if (id === undefined) continue;
      const r: QueryResult["results"][number] = { id, score: toScore(this.config.metric, n.distance) };
      if (needDetails) {
        const row = details.get(n.label);
        if (!row) continue;
        if (q.includeMetadata) r.metadata = parseMeta(row.metadata ?? null);
        if (q.includeText) r.text = row.text ?? null;
      }
      results.push(r);
    }
    const seconds = (performance.now() - started) / 1000;
    this.metrics.queryDuration.observe({ path }, seconds);
    return { results, scoreKind: scoreKind(this.config.metric), tookMs: seconds * 1000 };
  }

  private exact(query: Float32Array, labels: Iterable<number>, k: number): Neighbor[] {
    const index = this.index;
    function* vectors() {
      for (const label of labels) if (index.has(label)) yield { label, vector: index.vector(label) };
    }
    return exactTopK(this.config.metric, query, vectors(), k);
  }

  get(
    id: string,
  ): { id: string; vector: string; metadata: unknown; text: string | null; seq: number } | null {
    const row = this.store.getLive(id);
    if (!row?.vector) return null;
    return {
      id: row.id,
      vector: row.vector.toString("base64"),
      metadata: parseMeta(row.metadata),
      text: row.text,
      seq: row.seq,
    };
  }

  /**
   * Live documents after `afterSeq` in seq order. `text` is null for a point ingested as a vector
   * alone (a backfill cannot re-embed it and must count it). `lastSeq` is the shard's newest seq when
   * the page was read (deletes included, so it can exceed the last live item's seq); `done` means this
   * page reached it.
   */
  scan(afterSeq: number, limit: number) {
    const rows = this.store.scan(afterSeq, limit);
    return {
      items: rows.map((r) => ({
        id: r.id,
        seq: r.seq,
        metadata: parseMeta(r.metadata),
        text: r.text ?? null,
      })),
      nextAfterSeq: rows.length > 0 ? (rows[rows.length - 1] as (typeof rows)[number]).seq : afterSeq,
      lastSeq: this.store.lastSeq,
      done: rows.length < limit,
    };
  }

  /** The JSON value PUT under `key`, or undefined. */
  getMeta(key: string): unknown {
    if (this.state !== "ready") throw new HttpError(503, `shard is ${this.state}; retry shortly`);
    const json = this.store.getUserMeta(key);
    return json === undefined ? undefined : (JSON.parse(json) as unknown);
  }

  /** Store `json` under `key`; serialised with point writes, so it never outlives a close. */
  putMeta(key: string, json: string): Promise<void> {
    return this.writes.run(() => {
      this.assertWritable();
      this.store.putUserMeta(key, json);
    });
  }

  /** The newest seq this replica committed: a syncing replica's catch-up notes it when it begins. */
  get lastSeq(): number {
    return this.store.lastSeq;
  }

  /** A page of rows after `afterSeq` (tombstones included, vectors base64) for a syncing peer. */
  peerRows(afterSeq: number, limit: number) {
    if (this.state !== "ready") throw new HttpError(503, `shard is ${this.state}; retry shortly`);
    const rows = this.store.peerRowsAfter(afterSeq, limit);
    return {
      rows: rows.map((r) => ({
        id: r.id,
        seq: r.seq,
        deleted: r.deleted !== 0,
        vector: r.deleted === 0 && r.vector ? r.vector.toString("base64") : null,
        metadata: parseMeta(r.metadata),
        text: r.text,
      })),
      lastSeq: this.store.lastSeq,
    };
  }

  /** Applies a peer's page under the catch-up rule (store.ts applyPeerRow), graph and filters included. */
  applyPeerRows(
    rows: readonly DecodedPeerRow[],
    joinedAtSeq: number,
  ): Promise<{ upserted: number; deleted: number; skipped: number }> {
    return this.writes.run(() => {
      this.assertWritable();
      const { upserts, deletes, skipped } = this.store.applyPeerRows(rows, joinedAtSeq);
      this.index.reserve(this.index.totalCount + upserts.length);
      for (const a of upserts) {
        this.index.upsert(a.label, a.vector);
        this.ids.set(a.label, a.id);
        if (a.wasLive) this.filters.remove(a.label, a.previousMetadata);
        this.filters.add(a.label, a.metadata);
      }
      for (const d of deletes) {
        this.index.remove(d.label);
        this.ids.delete(d.label);
        this.filters.remove(d.label, d.previousMetadata);
      }
      return { upserted: upserts.length, deleted: deletes.length, skipped };
    });
  }

  async stats() {
    const hnswBytes = this.index.estimatedBytes();
    const filterBytes = this.filters.estimatedBytes();
    const idBytes = this.ids.estimatedBytes();
    const databaseBytes = this.store.diskBytes();
    const checkpointBytes = await dirBytes(this.checkpointDir);
    const counts = this.store.counts();
    return {
      shardId: this.config.shardId,
      state: this.state,
      count: this.index.liveCount,
      deleted: this.index.deletedCount,
      tombstones: counts.tombstones,
      dimension: this.config.dimension,
      metric: this.config.metric,
      scoreKind: scoreKind(this.config.metric),
      fingerprint: this.config.fingerprint,
      hnsw: {
        m: this.config.m,
        efConstruction: this.config.efConstruction,
        efSearch: this.config.efSearch,
        maxElements: this.index.maxElements,
      },
      sync: this.config.sync,
      checkpointSeq: this.checkpointSeq < 0 ? null : this.checkpointSeq,
      lastSeq: this.store.lastSeq,
      replayedRows: this.replayed,
      memory: {
        estimateBytes: hnswBytes + filterBytes + idBytes,
        hnswBytes,
        filterIndexBytes: filterBytes,
        idTableBytes: idBytes,
        rssBytes: process.memoryUsage.rss(),
      },
      disk: { bytes: databaseBytes + checkpointBytes, databaseBytes, checkpointBytes },
    };
  }

  /** Write a checkpoint unless the graph already has one at the current seq. One at a time. */
  checkpoint(reason: string, force = false): Promise<void> {
    if (this.checkpointing) return this.checkpointing;
    const run = this.doCheckpoint(reason, force).catch((err: unknown) => {
      this.log.error("checkpoint failed; the database still holds every write, the next one retries", {
        reason,
        err,
      });
      throw err;
    });
    this.checkpointing = run.finally(() => {
      this.checkpointing = null;
    });
    return this.checkpointing;
  }

  private async doCheckpoint(reason: string, force: boolean): Promise<void> {
    const started = performance.now();
    // Writers wait while hnswlib dumps the graph on a worker thread (queries go on: they only read);
    // hashing, fsync and renames happen after the writers are released.
    const dumped = await this.writes.run(async () => {
      const seq = this.store.lastSeq;
      if (!force && seq === this.checkpointSeq) return null;
      const tmp = tempGraphPath(this.checkpointDir, seq);
      await this.index.write(tmp);
      return { seq, tmp, count: this.index.liveCount };
    });
    if (!dumped) return;
    const sidecar = await commitCheckpoint(this.checkpointDir, dumped.tmp, {
      seq: dumped.seq,
      count: dumped.count,
      dimension: this.config.dimension,
      metric: this.config.metric,
      m: this.config.m,
      efConstruction: this.config.efConstruction,
    });
    this.checkpointSeq = Math.max(this.checkpointSeq, dumped.seq);
    const seconds = (performance.now() - started) / 1000;
    this.metrics.checkpointDuration.observe(seconds);
    this.log.info("checkpoint written", {
      reason,
      seq: sidecar.seq,
      bytes: sidecar.bytes,
      ms: Math.round(seconds * 1000),
    });
  }

  /**
   * A consistent copy of this shard in `dir` (absent or empty), taken while it serves: writers wait
   * while the database and the graph are copied, so both stop at the same seq (queries go on). The
   * database: with the WAL folded in and the writers held, the file is the database at that seq and is
   * copied as a file by the kernel, then hashed from the copy while it is fsynced, after the writers
   * go on (SQLite's online backup when a reader holds the WAL back).
   * The graph: the last checkpoint when it covers that seq (checkpoint files are never rewritten, only
   * replaced, so `linkGraph` may hard-link them into a copy that is only read and then deleted),
   * else a fresh dump committed as a checkpoint at that seq. A shard started on the copy loads it and
   * replays nothing; were it unusable, the start rebuilds from the database, which alone is the truth.
   * Only this process touches its data dir: the copy is written to `dir`.
   */
  async snapshotTo(dir: string, opts: { linkGraph?: boolean } = {}): Promise<ShardCopy> {
    this.assertWritable();
    const existing = await readdir(dir).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [] as string[];
      throw err;
    });
    if (existing.length > 0)
      throw new HttpError(
        409,
        `snapshot staging dir ${dir} is not empty; pass a new or empty directory`,
        "dir",
      );
    await ensureDir(dir);
    const started = performance.now();
    // Digests taken while copying: those files are not read a second time to list them.
    const known = new Map<string, { bytes: number; sha256: string }>();
    let dbDigest: Promise<{ bytes: number; sha256: string }> | undefined;
    const copied = await this.writes.run(async () => {
      this.assertWritable();
      const seq = this.store.lastSeq;
      const db = join(dir, snapshotDatabaseFile);
      // Writers wait for the database's bytes and the graph's copy; the database copy's hash and
      // fsync run beside the graph's copy and may finish after the writers go on (ours alone by then).
      if (this.store.foldWal()) dbDigest = (await startCopyHashed(this.store.path, db)).done;
      else await this.store.backupTo(db);
      const graph = seq === this.checkpointSeq ? await this.copyCheckpoint(seq, dir, opts.linkGraph) : null;
      if (graph) {
        known.set(graph.name, graph);
        return { seq, tmp: null, vectors: this.index.liveCount };
      }
      const tmp = tempGraphPath(dir, seq);
      await this.index.write(tmp);
      return { seq, tmp, vectors: this.index.liveCount };
    });
    const heldMs = Math.round(performance.now() - started);
    if (dbDigest) known.set(snapshotDatabaseFile, await dbDigest);
    if (copied.tmp !== null) {
      const sidecar = await commitCheckpoint(dir, copied.tmp, {
        seq: copied.seq,
        count: copied.vectors,
        dimension: this.config.dimension,
        metric: this.config.metric,
        m: this.config.m,
        efConstruction: this.config.efConstruction,
      });
      known.set(`${checkpointBaseName(copied.seq)}.hnsw`, { bytes: sidecar.bytes, sha256: sidecar.sha256 });
    }
    const files: ShardCopy["files"] = [];
    for (const name of (await readdir(dir)).sort()) {
      if (name.startsWith(".")) continue;
      const digest = known.get(name) ?? (await sha256File(join(dir, name)));
      if (digest) files.push({ name, bytes: digest.bytes, sha256: digest.sha256 });
    }
    this.log.info("snapshot copy written", {
      dir,
      seq: copied.seq,
      vectors: copied.vectors,
      database: known.has(snapshotDatabaseFile) ? "file copy" : "online backup",
      graph: copied.tmp === null ? "last checkpoint" : "dumped",
      files: files.length,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      writersHeldMs: heldMs,
      ms: Math.round(performance.now() - started),
    });
    return {
      shardId: this.config.shardId,
      fingerprint: this.config.fingerprint,
      metric: this.config.metric,
      dimension: this.config.dimension,
      hnsw: { m: this.config.m, efConstruction: this.config.efConstruction },
      vectorCount: copied.vectors,
      seq: copied.seq,
      files,
    };
  }

  /**
   * The committed checkpoint at `seq` into `dir` (graph and sidecar), linked or copied; null when it
   * is gone or does not match its sidecar, and the caller dumps the graph instead.
   */
  private async copyCheckpoint(
    seq: number,
    dir: string,
    linkGraph = false,
  ): Promise<{ name: string; bytes: number; sha256: string } | null> {
    const base = checkpointBaseName(seq);
    const parsed = parseSidecar(
      await readFile(join(this.checkpointDir, `${base}.json`), "utf8").catch(() => ""),
    );
    if (!parsed.ok || parsed.sidecar.seq !== seq) return null;
    const name = `${base}.hnsw`;
    const graph = { name, bytes: parsed.sidecar.bytes, sha256: parsed.sidecar.sha256 };
    try {
      if (linkGraph) {
        await link(join(this.checkpointDir, name), join(dir, name));
      } else {
        const copied = await copyHashed(join(this.checkpointDir, name), join(dir, name));
        if (copied.sha256 !== graph.sha256 || copied.bytes !== graph.bytes)
          throw new Error("differs from its sidecar");
      }
      await copyFile(join(this.checkpointDir, `${base}.json`), join(dir, `${base}.json`));
      return graph;
    } catch (err) {
      this.log.warn("snapshot dumps the graph instead of copying its checkpoint", { checkpoint: name, err });
      await rm(join(dir, name), { force: true });
      await rm(join(dir, `${base}.json`), { force: true });
      return null;
    }
  }

  /** Rebuild the graph without deleted elements, while reads and writes continue on the old one. */
  compact(): Promise<void> {
    this.compacting ??= this.doCompact().finally(() => {
      this.compacting = null;
    });
    return this.compacting;
  }

  private async doCompact(): Promise<void> {
    const started = performance.now();
    const before = { live: this.index.liveCount, deleted: this.index.deletedCount };
    const fromSeq = this.store.lastSeq;
    const fresh = HnswIndex.create(this.params, Math.ceil(before.live * 1.1));
    let after = -1;
    for (;;) {
      const page = this.store.liveVectorPage(fromSeq, after, pageSize);
      if (page.length === 0) break;
      fresh.reserve(fresh.totalCount + page.length);
      for (const row of page) if (row.vector) fresh.upsert(row.label, toFloat32(row.vector));
      after = (page[page.length - 1] as (typeof page)[number]).label;
      if (this.state !== "ready") return;
      await yieldNow();
    }
    await this.writes.run(async () => {
      // Catch up with what was written while we built: the same replay a restart does.
      const previous = this.index;
      this.index = fresh;
      try {
        await this.replay(fromSeq, () => false);
      } catch (err) {
        this.index = previous;
        throw err;
      }
    });
    this.metrics.compactions.inc();
    this.log.info("compacted", {
      before,
      after: { live: this.index.liveCount, deleted: this.index.deletedCount },
      ms: Math.round(performance.now() - started),
    });
    await this.checkpoint("after-compaction", true);
  }

  private scheduleMaintenance(): void {
    if (this.state !== "ready" || this.config.checkpointIntervalSeconds <= 0) return;
    this.timer = setTimeout(() => {
      this.maintain()
        .catch((err: unknown) => this.log.error("maintenance failed", { err }))
        .finally(() => this.scheduleMaintenance());
    }, this.config.checkpointIntervalSeconds * 1000);
    this.timer.unref();
  }

  /** One maintenance tick: compact when tombstones dominate, then checkpoint if anything changed. */
  async maintain(): Promise<void> {
    const policy = this.config.compaction ?? defaultCompactionPolicy;
    if (shouldCompact({ deleted: this.index.deletedCount, total: this.index.totalCount }, policy)) {
      await this.compact();
    }
    await this.checkpoint("interval");
  }

  /** Finish writes, checkpoint, close the database. In-flight HTTP must be drained by the caller. */
  async close(): Promise<void> {
    if (this.state === "closing" || this.state === "closed") return;
    const wasReady = this.state === "ready";
    this.state = "closing";
    clearTimeout(this.timer);
    await this.loading?.catch(() => undefined);
    await this.compacting?.catch(() => undefined);
    await this.checkpointing?.catch(() => undefined);
    if (wasReady) await this.checkpoint("shutdown").catch(() => undefined);
    await this.writes.run(() => this.store.close());
    this.state = "closed";
  }
}

function zip(r: { neighbors: number[]; distances: number[] }): Neighbor[] {
  return r.neighbors.map((label, i) => ({ label, distance: r.distances[i] as number }));
}
