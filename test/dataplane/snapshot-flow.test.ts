// Snapshots end to end with real processes: real `embedops shard` children (SQLite + hnswlib), a
// path store on a temp dir and a real versitygw S3 server. Ingest, snapshot to both stores, ingest
// more, restore into new shard dirs and start shards on them; restore into another shard count;
// a shard killed mid-snapshot; a flipped byte in a stored file. And the HTTP transport a cluster uses
// (no staging dir: each shard keeps its copy and serves it): a round trip, a copy altered on the
// shard before it is fetched, and the copy's removal.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, open, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generationName } from "../../src/core/generation.js";
import { shardDataDir } from "../../src/local/plan.js";
import { shardForId } from "../../src/router/shard-hash.js";
import { createSnapshot } from "../../src/snapshot/create.js";
import { shardPrefix, snapshotRoot } from "../../src/snapshot/layout.js";
import { PathStore } from "../../src/snapshot/path-store.js";
import { readSnapshot, restoreSnapshot } from "../../src/snapshot/restore.js";
import { S3Store } from "../../src/snapshot/s3-store.js";
import type { SnapshotStore } from "../../src/snapshot/store.js";
import type { Logger } from "../../src/util/log.js";
import { allIds, call, clustered, type ShardProcess, startShardProcess } from "./shard-process.js";
import { startVersitygw, type Versitygw } from "./versitygw.js";

const dim = 16;
const fp = "abcdef0123456789abcdef01";
const generation = generationName(fp);
const INDEX = "docs";
const FIRST = 2000;
const MORE = 500;
const vectors = clustered(FIRST + MORE, dim, 11);
const queries_ = clustered(50, dim, 99);

const logs: Record<string, unknown>[] = [];
const keep = (msg: string, fields?: Record<string, unknown>) => {
  logs.push({ msg, ...fields });
};
const log: Logger = { debug: keep, info: keep, warn: keep, error: keep, child: () => log };

let work: string;
let gw: Versitygw;
let pathStore: PathStore;
let s3: S3Store;
const started: ShardProcess[] = [];
let source: ShardProcess[] = [];
let snapshotIds: Set<string>;
let snapshotTop10: string[][];

const doc = (i: number) => ({
  id: `doc-${i}`,
  vector: vectors[i] as number[],
  metadata: { n: i, even: i % 2 === 0 },
  text: `text of ${i}`,
});

async function startShard(dataDir: string): Promise<ShardProcess> {
  const s = await startShardProcess({ dataDir, dimension: dim, fingerprint: fp });
  started.push(s);
  await s.waitReady();
  return s;
}

/** Writes docs [from, to) to the shard the router would pick. */
async function ingest(shards: readonly ShardProcess[], from: number, to: number): Promise<void> {
  const per: ReturnType<typeof doc>[][] = shards.map(() => []);
  for (let i = from; i < to; i++) per[shardForId(`doc-${i}`, shards.length)]?.push(doc(i));
  for (const [s, points] of per.entries()) {
    const r = await call((shards[s] as ShardProcess).url, "POST", "/v1/points", { points });
    expect(r.status).toBe(200);
  }
}

/** The router's merge, reduced: every shard's top 10, best score first (ties by id), first 10 ids. */
async function top10(shards: readonly ShardProcess[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const q of queries_) {
    const all: { id: string; score: number }[] = [];
    for (const s of shards) {
      const r = await call(s.url, "POST", "/v1/query", { vector: q, k: 10 });
      expect(r.status).toBe(200);
      all.push(...(r.body.results as { id: string; score: number }[]));
    }
    all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
    out.push(all.slice(0, 10).map((x) => x.id));
  }
  return out;
}

async function idsOf(shards: readonly ShardProcess[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const s of shards) for (const id of await allIds(s.url)) ids.add(id);
  return ids;
}

const urls = (shards: readonly ShardProcess[]) => shards.map((s) => [s.url]);

function snapshotOf(
  store: SnapshotStore,
  name: string,
  shards: readonly ShardProcess[],
  transport: "staging" | "http" = "staging",
  fetchVia?: typeof fetch,
) {
  return createSnapshot({
    store,
    prefix: "",
    index: INDEX,
    snapshot: name,
    generation,
    fingerprint: fp,
    shards: urls(shards),
    ...(transport === "staging" ? { stagingDir: join(work, "staging") } : {}),
    ...(fetchVia ? { fetch: fetchVia } : {}),
    log,
  });
}

/** The copies a source shard holds for the HTTP transport (its data dir's snapshot-copies/). */
async function copiesOn(shard: number): Promise<string[]> {
  return readdir(join(work, "src", `shard-${shard}`, "snapshot-copies")).catch(() => []);
}

function restoreTo(store: SnapshotStore, name: string, target: string, shards: number, fingerprint = fp) {
  return restoreSnapshot({
    store,
    root: snapshotRoot("", INDEX, name),
    expectedFingerprint: fingerprint,
    shards,
    replicas: 1,
    targetDir: (s, r) => shardDataDir(join(work, target), "restored", generation, `shard-${s}`, r),
    stagingDir: join(work, `restore-staging-${target}`),
    log,
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-snapshot-flow-"));
  await mkdir(join(work, "store"));
  pathStore = new PathStore(join(work, "store"));
  gw = await startVersitygw();
  s3 = new S3Store({ endpoint: gw.endpoint, bucket: gw.bucket, credentials: gw.credentials, maxAttempts: 1 });
  source = [await startShard(join(work, "src", "shard-0")), await startShard(join(work, "src", "shard-1"))];
  await ingest(source, 0, FIRST);
  snapshotIds = await idsOf(source);
  snapshotTop10 = await top10(source);
}, 180_000);

afterAll(async () => {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  s3?.destroy();
  await gw?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("snapshot create and restore with real shards", () => {
  it("when an index of 2 shards is snapshotted to the path store and to S3, then both are complete with every document", async () => {
    for (const store of [pathStore, s3]) {
      const made = await snapshotOf(store, "snap-a", source);
      expect(made.manifest.shards.map((s) => s.vectors).reduce((a, b) => a + b, 0)).toBe(FIRST);
      const read = await readSnapshot(store, made.root);
      expect(read.shards).toHaveLength(2);
      expect(read.shards.every((s) => s.files.some((f) => f.name === "shard.db"))).toBe(true);
      expect(read.shards.every((s) => s.files.some((f) => f.name.endsWith(".hnsw")))).toBe(true);
    }
    for (const store of [pathStore, s3]) {
      const made = await snapshotOf(store, "snap-http", source, "http");
      expect(made.manifest.shards.map((s) => s.vectors).reduce((a, b) => a + b, 0)).toBe(FIRST);
    }
    expect(logs.some((l) => l.msg === "snapshot shard uploaded" && l.transport === "http")).toBe(true);
    // Writes after the snapshot: more documents and deletes that a restore must not show.
    await ingest(source, FIRST, FIRST + MORE);
    const gone = Array.from({ length: 50 }, (_, i) => `doc-${i * 7}`);
    for (const s of source)
      expect((await call(s.url, "POST", "/v1/points/delete", { ids: gone })).status).toBe(200);
    expect((await idsOf(source)).size).toBe(FIRST + MORE - 50);
  }, 120_000);

  it("when the path snapshot is restored into 2 new shards, then they serve exactly its documents and the same top-10 for 50 queries", async () => {
    const r = await restoreTo(pathStore, "snap-a", "restore-path", 2);
    expect(r.redistributed).toBe(false);
    expect(r.documents).toBe(FIRST);
    const restored = [];
    for (let s = 0; s < 2; s++)
      restored.push(
        await startShard(shardDataDir(join(work, "restore-path"), "restored", generation, `shard-${s}`, 0)),
      );
    expect(await idsOf(restored)).toEqual(snapshotIds);
    expect(await top10(restored)).toEqual(snapshotTop10);
    // The graph came from the snapshot's checkpoint: nothing was replayed or rebuilt.
    for (const s of restored) {
      const loaded = s.logs.find((l) => l.msg === "loaded");
      expect(loaded).toMatchObject({ source: "checkpoint", replayedRows: 0, points: expect.any(Number) });
    }
    for (const s of restored) await s.stop();
  }, 120_000);

  it("when the snapshots taken over the shards' HTTP API are restored, then they serve exactly the snapshot's documents and top-10, and no copy is left on the shards", async () => {
    for (const [store, target] of [
      [pathStore, "restore-http-path"],
      [s3, "restore-http-s3"],
    ] as const) {
      const r = await restoreTo(store, "snap-http", target, 2);
      expect(r.documents).toBe(FIRST);
      const restored = [];
      for (let s = 0; s < 2; s++)
        restored.push(
          await startShard(shardDataDir(join(work, target), "restored", generation, `shard-${s}`, 0)),
        );
      expect(await idsOf(restored)).toEqual(snapshotIds);
      expect(await top10(restored)).toEqual(snapshotTop10);
      for (const s of restored) await s.stop();
    }
    expect([...(await copiesOn(0)), ...(await copiesOn(1))]).toEqual([]);
  }, 120_000);

  it("when shards whose last checkpoint covers their watermark are snapshotted, then the checkpoint is copied or linked instead of dumped, and both copies restore to the same documents and top-10", async () => {
    // Restarted on the restored dirs: each loads its checkpoint, so the checkpoint is at lastSeq.
    const shards = [];
    for (let s = 0; s < 2; s++)
      shards.push(
        await startShard(shardDataDir(join(work, "restore-path"), "restored", generation, `shard-${s}`, 0)),
      );
    await snapshotOf(pathStore, "snap-ckpt-staging", shards);
    await snapshotOf(pathStore, "snap-ckpt-http", shards, "http");
    for (const s of shards) {
      const copies = s.logs.filter((l) => l.msg === "snapshot copy written");
      expect(copies).toHaveLength(2);
      for (const c of copies) expect(c).toMatchObject({ database: "file copy", graph: "last checkpoint" });
      await s.stop();
    }
    for (const name of ["snap-ckpt-staging", "snap-ckpt-http"]) {
      await restoreTo(pathStore, name, `restore-${name}`, 2);
      const restored = [];
      for (let s = 0; s < 2; s++)
        restored.push(
          await startShard(
            shardDataDir(join(work, `restore-${name}`), "restored", generation, `shard-${s}`, 0),
          ),
        );
      expect(await idsOf(restored)).toEqual(snapshotIds);
      expect(await top10(restored)).toEqual(snapshotTop10);
      for (const s of restored) {
        expect(s.logs.find((l) => l.msg === "loaded")).toMatchObject({
          source: "checkpoint",
          replayedRows: 0,
        });
        await s.stop();
      }
    }
  }, 180_000);

  it("when a shard's copy is altered on its disk before it is fetched, then the snapshot is refused naming the file and the copy is removed", async () => {
    let altered = "";
    const tampering: typeof fetch = async (input, init) => {
      const url = String(input);
      const m = /\/v1\/snapshot\/([^/]+)\/files\/shard\.db$/.exec(url);
      if (m && altered === "") {
        // Same size, one byte different: only the sha256 can tell.
        const shard = url.startsWith((source[0] as ShardProcess).url) ? 0 : 1;
        const file = join(work, "src", `shard-${shard}`, "snapshot-copies", m[1] as string, "shard.db");
        const fh = await open(file, "r+");
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, 200);
        await fh.write(Buffer.from([(b[0] as number) ^ 0xff]), 0, 1, 200);
        await fh.close();
        altered = file;
      }
      return fetch(input, init);
    };
    await expect(snapshotOf(pathStore, "snap-tampered", source, "http", tampering)).rejects.toThrow(
      /snapshot file shard\.db from shard \d's copy c[0-9a-z-]+ at http:\/\/127\.0\.0\.1:\d+ arrived with \d+ bytes and sha256 [0-9a-f]{64}, the shard listed \d+ bytes and sha256 [0-9a-f]{64}/,
    );
    expect(altered).not.toBe("");
    await expect(readSnapshot(pathStore, snapshotRoot("", INDEX, "snap-tampered"))).rejects.toThrow(
      /incomplete/,
    );
    // Both shards' copies were deleted, the altered one included.
    expect([...(await copiesOn(0)), ...(await copiesOn(1))]).toEqual([]);
    await pathStore.deletePrefix(snapshotRoot("", INDEX, "snap-tampered"));
  }, 60_000);

  it("when a copy is made, fetched and deleted through the shard's API, then the file streams whole and DELETE removes the copy's directory", async () => {
    const url = (source[0] as ShardProcess).url;
    const made = await call(url, "POST", "/v1/snapshot", {});
    expect(made.status).toBe(200);
    const copy = made.body.copy as string;
    const files = made.body.files as { name: string; bytes: number }[];
    const dir = join(work, "src", "shard-0", "snapshot-copies", copy);
    expect((await readdir(dir)).sort()).toEqual(files.map((f) => f.name).sort());
    const db = files.find((f) => f.name === "shard.db") as { bytes: number };
    const got = await fetch(`${url}/v1/snapshot/${copy}/files/shard.db`);
    expect(got.status).toBe(200);
    expect((await got.arrayBuffer()).byteLength).toBe(db.bytes);
    expect(await call(url, "GET", `/v1/snapshot/${copy}/files/..%2Fshard.db`)).toMatchObject({
      status: 400,
      body: { field: "name" },
    });
    expect(await call(url, "GET", "/v1/snapshot/..%2F..%2Fsrc/files/shard.db")).toMatchObject({
      status: 400,
      body: { field: "copy" },
    });
    const del = await call(url, "DELETE", `/v1/snapshot/${copy}`);
    expect(del).toMatchObject({ status: 200, body: { copy, removed: true } });
    expect(await stat(dir).catch(() => "gone")).toBe("gone");
    expect((await call(url, "GET", `/v1/snapshot/${copy}/files/shard.db`)).status).toBe(404);
  });

  it("when the S3 snapshot is restored into 3 shards, then the same documents come back, each on the shard its id hashes to", async () => {
    const r = await restoreTo(s3, "snap-a", "restore-s3-3", 3);
    expect(r.redistributed).toBe(true);
    expect(r.documents).toBe(FIRST);
    const restored = [];
    for (let s = 0; s < 3; s++)
      restored.push(
        await startShard(shardDataDir(join(work, "restore-s3-3"), "restored", generation, `shard-${s}`, 0)),
      );
    expect(await idsOf(restored)).toEqual(snapshotIds);
    for (const [s, shard] of restored.entries())
      for (const id of await allIds(shard.url)) expect(shardForId(id, 3), id).toBe(s);
    const one = await call((restored[shardForId("doc-5", 3)] as ShardProcess).url, "GET", "/v1/points/doc-5");
    expect(one.body).toMatchObject({ id: "doc-5", metadata: { n: 5, even: false }, text: "text of 5" });
    for (const s of restored) await s.stop();
  }, 120_000);

  it("when the target expects another model fingerprint, then restore refuses naming both", async () => {
    const other = "0123456789abcdef0000";
    await expect(restoreTo(pathStore, "snap-a", "restore-other-model", 2, other)).rejects.toThrow(
      new RegExp(`${fp}.*${other}`),
    );
    expect(await readdir(join(work, "restore-other-model")).catch(() => [])).toEqual([]);
  });

  it("when the copy is asked for a relative or non-empty directory, then the shard refuses naming the field", async () => {
    const relative = await call((source[0] as ShardProcess).url, "POST", "/v1/snapshot", { dir: "stage" });
    expect(relative.status).toBe(400);
    expect(relative.body).toMatchObject({ field: "dir", error: expect.stringMatching(/absolute path/) });
    await mkdir(join(work, "busy"));
    writeFileSync(join(work, "busy", "x"), "x");
    const busy = await call((source[0] as ShardProcess).url, "POST", "/v1/snapshot", {
      dir: join(work, "busy"),
    });
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ field: "dir", error: expect.stringMatching(/is not empty/) });
  });

  it("when a shard is snapshotted while writes and queries go on, then the copy holds exactly the rows up to its watermark and no query fails", async () => {
    const target = source[0] as ShardProcess;
    const extra = clustered(4000, dim, 5);
    let next = 0;
    let stop = false;
    let acknowledged = 0;
    let queriesFailed = 0;
    let queries = 0;
    const writer = (async () => {
      while (!stop && next + 50 <= extra.length) {
        const points = extra.slice(next, next + 50).map((v, j) => ({ id: `live-${next + j}`, vector: v }));
        next += 50;
        const r = await call(target.url, "POST", "/v1/points", { points });
        if (r.status !== 200) throw new Error(`write failed during the snapshot: ${r.status}`);
        acknowledged++;
      }
    })();
    const reader = (async () => {
      while (!stop) {
        const r = await call(target.url, "POST", "/v1/query", { vector: queries_[queries % 50], k: 5 });
        queries++;
        if (r.status !== 200) queriesFailed++;
      }
    })();
    while (acknowledged < 2) await new Promise((r) => setTimeout(r, 10));
    const made = await snapshotOf(pathStore, "snap-live", source);
    const afterSnapshot = acknowledged;
    while (acknowledged < afterSnapshot + 2 && next + 50 <= extra.length)
      await new Promise((r) => setTimeout(r, 10));
    stop = true;
    await Promise.all([writer, reader]);
    expect(queriesFailed).toBe(0);
    expect(queries).toBeGreaterThan(0);
    // The database was copied as a file (WAL folded, writers held), the path this test checks.
    expect(target.logs.filter((l) => l.msg === "snapshot copy written").at(-1)).toMatchObject({
      database: "file copy",
    });

    const watermark = (made.shards[0] as { seq: number }).seq;
    const expected = new Set<string>();
    let newer = 0;
    for (let after = 0; ; ) {
      const page = await call(target.url, "GET", `/v1/scan?afterSeq=${after}&limit=5000`);
      for (const it of page.body.items as { id: string; seq: number }[]) {
        if (it.seq <= watermark) expected.add(it.id);
        else newer++;
      }
      after = page.body.nextAfterSeq as number;
      if (page.body.done) break;
    }
    expect(newer).toBeGreaterThan(0); // writes went on after the copy's watermark
    expect([...expected].some((id) => id.startsWith("live-"))).toBe(true); // and were in it before

    await restoreTo(pathStore, "snap-live", "restore-live", 2);
    const restored = await startShard(
      shardDataDir(join(work, "restore-live"), "restored", generation, "shard-0", 0),
    );
    expect(await allIds(restored.url)).toEqual(expected);
    expect((await call(restored.url, "GET", "/v1/stats")).body).toMatchObject({ lastSeq: watermark });
    await restored.stop();
  }, 180_000);

  it("when a shard is killed -9 mid-snapshot, then the new snapshot has no top manifest and is refused, and the previous one still restores", async () => {
    const victim = source[1] as ShardProcess;
    const pid = victim.proc.pid as number;
    // Frozen before its copy request is sent, killed while that request is in flight: deterministic,
    // and shard 0's copy is already uploaded by then (the snapshot is half written).
    const killing: typeof fetch = async (input, init) => {
      const url = String(input);
      if (url === `${victim.url}/v1/snapshot`) {
        process.kill(pid, "SIGSTOP");
        const pending = fetch(input, init);
        pending.catch(() => {}); // returned below; this only marks a rejection during the kill as handled
        await new Promise((r) => setTimeout(r, 200));
        await victim.kill9();
        return pending;
      }
      return fetch(input, init);
    };
    await expect(
      createSnapshot({
        store: pathStore,
        prefix: "",
        index: INDEX,
        snapshot: "snap-b",
        generation,
        fingerprint: fp,
        shards: urls(source),
        stagingDir: join(work, "staging"),
        log,
        fetch: killing,
      }),
    ).rejects.toThrow(/no replica of shard 1 made a copy.*incomplete/);
    const half = await pathStore.list(snapshotRoot("", INDEX, "snap-b"));
    expect(half.some((o) => o.key.startsWith(shardPrefix(snapshotRoot("", INDEX, "snap-b"), 0)))).toBe(true);
    await expect(readSnapshot(pathStore, snapshotRoot("", INDEX, "snap-b"))).rejects.toThrow(
      /is incomplete: it has no docs\/snap-b\/manifest\.json/,
    );
    const again = await restoreTo(pathStore, "snap-a", "restore-after-kill", 2);
    expect(again.documents).toBe(FIRST);
    const restored = [];
    for (let s = 0; s < 2; s++)
      restored.push(
        await startShard(
          shardDataDir(join(work, "restore-after-kill"), "restored", generation, `shard-${s}`, 0),
        ),
      );
    expect(await idsOf(restored)).toEqual(snapshotIds);
    for (const s of restored) await s.stop();
    // The shard's staging copy was removed with the failed attempt.
    expect(await readdir(join(work, "staging"))).toEqual([]);
  }, 120_000);

  it("when one byte of a stored file is flipped, then restore refuses naming the file and writes no target", async () => {
    const file = join(work, "store", INDEX, "snap-a", "shard-1", "shard.db");
    const bytes = readFileSync(file);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    writeFileSync(file, bytes);
    await expect(restoreTo(pathStore, "snap-a", "restore-corrupt", 2)).rejects.toThrow(
      /snapshot file shard\.db has sha256 [0-9a-f]{64}, its manifest says [0-9a-f]{64}.*docs\/snap-a\/shard-1\/shard\.db/,
    );
    expect(await readdir(join(work, "restore-corrupt")).catch(() => [])).toEqual([]);
  });
});
