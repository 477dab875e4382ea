// `embedops snapshot restore-shard` (the init container of a VectorIndex's shards under spec.restore)
// as a child process against real shards: two `embedops shard` processes hold documents, a snapshot
// goes to a path store, then each target shard's data dir is filled by its own restore-shard run and a
// shard started on it serves exactly its part of the snapshot; a second run on a dir that holds data
// changes nothing, and a snapshot of another model is refused without touching the dir.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generationName } from "../../src/core/generation.js";
import { shardForId } from "../../src/router/shard-hash.js";
import { createSnapshot } from "../../src/snapshot/create.js";
import { PathStore } from "../../src/snapshot/path-store.js";
import type { Logger } from "../../src/util/log.js";
import { allIds, call, clustered, type ShardProcess, startShardProcess } from "./shard-process.js";

const root = join(import.meta.dirname, "..", "..");
const dim = 16;
const fp = "0123456789abcdef01234567";
const INDEX = "docs";
const SNAPSHOT = "nightly";
const DOCS = 400;
const vectors = clustered(DOCS + 1, dim, 5);
const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => quiet,
};

let work: string;
const started: ShardProcess[] = [];
const sourceIds: Set<string>[] = [];

async function startShard(dataDir: string): Promise<ShardProcess> {
  const s = await startShardProcess({ dataDir, dimension: dim, fingerprint: fp });
  started.push(s);
  await s.waitReady();
  return s;
}

function restoreShardCli(
  shard: number,
  shards: number,
  dataDir: string,
  fingerprint = fp,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    ...[join(root, "bin", "embedops.mjs"), "snapshot", "restore-shard", "--snapshot", SNAPSHOT],
    ...["--from-index", INDEX, "--shard", String(shard), "--shards", String(shards)],
    ...["--fingerprint", fingerprint, "--data-dir", dataDir, "--store", `path:${join(work, "store")}`],
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** name -> size and mtime of every file under dir: what "changes nothing" compares. */
async function listing(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const st = await stat(path);
    out[path.slice(dir.length)] = `${st.size}@${st.mtimeMs}`;
  }
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-restore-shard-"));
  await mkdir(join(work, "store"));
  const source = [await startShard(join(work, "src-0")), await startShard(join(work, "src-1"))];
  const per: { id: string; vector: number[]; text: string }[][] = [[], []];
  for (let i = 0; i < DOCS; i++) {
    const id = `doc-${i}`;
    per[shardForId(id, 2)]?.push({ id, vector: vectors[i] as number[], text: `text ${i}` });
  }
  for (const [s, points] of per.entries())
    expect((await call((source[s] as ShardProcess).url, "POST", "/v1/points", { points })).status).toBe(200);
  for (const s of source) sourceIds.push(await allIds(s.url));
  await createSnapshot({
    store: new PathStore(join(work, "store")),
    prefix: "",
    index: INDEX,
    snapshot: SNAPSHOT,
    generation: generationName(fp),
    fingerprint: fp,
    shards: source.map((s) => [s.url]),
    stagingDir: join(work, "staging"),
    log: quiet,
  });
  for (const s of source) await s.stop();
}, 120_000);

afterAll(async () => {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  await rm(work, { recursive: true, force: true });
});

describe("embedops snapshot restore-shard", () => {
  it("when shards 0 and 1 of a 2-shard target are restored into empty dirs, then shards started on them hold exactly the snapshot's documents, and a second run changes nothing", async () => {
    for (const shard of [0, 1]) {
      const r = await restoreShardCli(shard, 2, join(work, `t-${shard}`));
      expect(r.stderr).not.toMatch(/"level":"error"/);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`restored shard ${shard} of 2`);
      // Nothing but the shard's own files is left behind.
      expect((await readdir(join(work, `t-${shard}`))).sort()).toEqual(["checkpoints", "shard.db"]);
    }
    const restored = [await startShard(join(work, "t-0")), await startShard(join(work, "t-1"))];
    for (const shard of [0, 1])
      expect(await allIds((restored[shard] as ShardProcess).url)).toEqual(sourceIds[shard]);
    const all = new Set([...(sourceIds[0] ?? []), ...(sourceIds[1] ?? [])]);
    expect(all.size).toBe(DOCS);

    // A write after the restore, then the pod restarts: its init container runs again.
    const newer = { id: "doc-after", vector: vectors[DOCS] as number[], text: "after the restore" };
    expect(
      (await call((restored[0] as ShardProcess).url, "POST", "/v1/points", { points: [newer] })).status,
    ).toBe(200);
    for (const s of restored) await s.stop();
    const before = await listing(join(work, "t-0"));
    const again = await restoreShardCli(0, 2, join(work, "t-0"));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("nothing restored");
    expect(await listing(join(work, "t-0"))).toEqual(before);
    const restarted = await startShard(join(work, "t-0"));
    expect(await allIds(restarted.url)).toEqual(new Set([...(sourceIds[0] ?? []), "doc-after"]));
    await restarted.stop();
  }, 120_000);

  it("when the target has 3 shards, then the snapshot's documents are split by id hash across the 3 restored dirs", async () => {
    const got: Set<string>[] = [];
    for (const shard of [0, 1, 2]) {
      const dir = join(work, `three-${shard}`);
      expect((await restoreShardCli(shard, 3, dir)).code).toBe(0);
      const s = await startShard(dir);
      got.push(await allIds(s.url));
      await s.stop();
    }
    const union = new Set(got.flatMap((g) => [...g]));
    expect(union).toEqual(new Set([...(sourceIds[0] ?? []), ...(sourceIds[1] ?? [])]));
    for (const [shard, ids] of got.entries()) for (const id of ids) expect(shardForId(id, 3)).toBe(shard);
  }, 120_000);

  it("when the expected fingerprint is another model's, then the restore is refused naming both and the dir stays empty", async () => {
    const other = "fedcba9876543210fedcba98";
    const dir = join(work, "refused");
    const r = await restoreShardCli(0, 2, dir, other);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(fp);
    expect(r.stderr).toContain(other);
    expect(await readdir(dir).catch(() => [])).toEqual([]);
  }, 60_000);
});
