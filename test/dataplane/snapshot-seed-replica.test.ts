// `embedops snapshot seed-replica` (the init container of a new shard replica) as a child process
// against a real `embedops shard` process: an empty data dir is filled with the peer's copy over
// HTTP and records its seq watermark; a replica started on it holds every document; writes after
// the watermark are caught up by POST /v1/sync {from, afterSeq: W}; a dir that holds a database,
// and ordinal 0, are left alone; an unreachable peer makes it exit non-zero without a database.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpReplicaIo } from "../../controllers/vector-index/replica-io.js";
import { copiesDir } from "../../src/shard/snapshot-copies.js";
import { allIds, call, clustered, type ShardProcess, startShardProcess } from "./shard-process.js";

const root = join(import.meta.dirname, "..", "..");
const dim = 16;
const fp = "5eedfeed0123";
const DOCS = 300;
const vectors = clustered(DOCS + 20, dim, 7);

let work: string;
let peer: ShardProcess;
const started: ShardProcess[] = [];

async function startShard(dataDir: string): Promise<ShardProcess> {
  const s = await startShardProcess({ dataDir, dimension: dim, fingerprint: fp });
  started.push(s);
  await s.waitReady();
  return s;
}

function seedCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = [join(root, "bin", "embedops.mjs"), "snapshot", "seed-replica", "--fingerprint", fp, ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const points = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => ({
    id: `doc-${from + k}`,
    vector: vectors[from + k] as number[],
  }));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-seed-replica-"));
  peer = await startShard(join(work, "replica-0"));
  expect((await call(peer.url, "POST", "/v1/points", { points: points(0, DOCS) })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  await rm(work, { recursive: true, force: true });
});

describe("embedops snapshot seed-replica", () => {
  it("when replica 1's data dir is empty, then it is filled from replica 0's copy over HTTP, and with the catch-up from its watermark it holds every document of replica 0", async () => {
    const dir = join(work, "replica-1");
    const r = await seedCli(["--data-dir", dir, "--ordinal", "1", "--peer", peer.url, "--wait-seconds", "5"]);
    expect(r.stderr).not.toMatch(/"level":"error"/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("seeded replica 1");
    const seeded = JSON.parse(readFileSync(join(dir, "seeded-from.json"), "utf8")) as {
      from: string;
      seq: number;
      vectorCount: number;
    };
    expect(seeded.from).toBe(peer.url);
    expect(seeded.vectorCount).toBe(DOCS);
    expect((await readdir(dir)).sort()).toEqual(["checkpoints", "seeded-from.json", "shard.db"]);
    // The peer keeps no copy behind.
    expect(await readdir(copiesDir(join(work, "replica-0"))).catch(() => [])).toEqual([]);

    // Writes after the watermark reach the peer only (the replica does not run yet).
    expect((await call(peer.url, "POST", "/v1/points", { points: points(DOCS, DOCS + 20) })).status).toBe(
      200,
    );
    expect((await call(peer.url, "POST", "/v1/points/delete", { ids: ["doc-3"] })).status).toBe(200);
    const replica = await startShard(dir);
    expect((await allIds(replica.url)).size).toBe(DOCS);
    // Where the operator reads the watermark: the replica's own meta.
    const meta = await call(replica.url, "GET", "/v1/meta/seeded-from");
    expect(meta.status).toBe(200);
    expect((meta.body.value as { seq: number }).seq).toBe(seeded.seq);
    // The operator's side (controllers/vector-index/replica-io.ts) against the real replica.
    const io = httpReplicaIo();
    expect(await io.observe({ url: replica.url, routers: [] })).toEqual({
      ready: true,
      seededAtSeq: seeded.seq,
      sync: { phase: "idle", rows: 0 },
      routersWriteToIt: false,
      routersWhy: "no router pod has an IP yet",
    });
    await io.startSync(replica.url, peer.url, seeded.seq);
    for (;;) {
      const o = await io.observe({ url: replica.url, routers: [] });
      if (o.sync?.phase === "done") {
        expect(o.sync).toEqual({ phase: "done", afterSeq: seeded.seq, rows: 21 });
        break;
      }
      expect(o.sync?.phase).toBe("running");
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await allIds(replica.url)).toEqual(await allIds(peer.url));
    expect((await allIds(replica.url)).has("doc-3")).toBe(false);
    expect((await allIds(replica.url)).size).toBe(DOCS + 19);
    await replica.stop();
  }, 60_000);

  it("when the data dir already holds a database, or the pod is ordinal 0, then nothing is copied", async () => {
    const again = await seedCli([
      "--data-dir",
      join(work, "replica-1"),
      "--ordinal",
      "1",
      "--peer",
      peer.url,
    ]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already holds a shard database");
    const zero = join(work, "fresh-0");
    const first = await seedCli(["--data-dir", zero, "--ordinal", "0", "--peer", peer.url]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("replica 0 is the first of its shard");
    expect(existsSync(join(zero, "shard.db"))).toBe(false);
  }, 30_000);

  it("when it runs as every shard pod's init container (ordinal from $HOSTNAME) on ordinal 0 or on a dir with a database, then it exits 0 without asking a peer and leaves every file as it was", async () => {
    // The operator's args (src/builders/shard-statefulset.ts), with a peer that never answers: asking
    // it would wait the default 120 s and fail. A restarted replica must not depend on replica 0.
    const asPod = (dir: string, pod: string) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(
          process.execPath,
          [
            ...[join(root, "bin", "embedops.mjs"), "snapshot", "seed-replica", "--fingerprint", fp],
            ...["--data-dir", dir, "--peer-template", "http://127.0.0.1:1/{ordinal}"],
          ],
          { cwd: root, env: { ...process.env, HOSTNAME: pod }, timeout: 20_000 },
          (err, stdout) => resolve({ code: err ? 1 : 0, stdout }),
        ),
      );
    const digests = async (dir: string) => {
      const out: Record<string, string> = {};
      for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
        if (e.isFile()) {
          const path = join(e.parentPath, e.name);
          out[path] = createHash("sha256").update(readFileSync(path)).digest("hex");
        }
      return out;
    };
    const held = join(work, "replica-1");
    const before = await digests(held);
    expect(Object.keys(before).some((f) => f.endsWith("shard.db"))).toBe(true);
    const restarted = await asPod(held, "docs-g-5eedfeed0123-shard-0-1");
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toContain("already holds a shard database");
    expect(await digests(held)).toEqual(before);

    const first = join(work, "pod-ordinal-0");
    await mkdir(first);
    const zero = await asPod(first, "docs-g-5eedfeed0123-shard-0-0");
    expect(zero.code).toBe(0);
    expect(zero.stdout).toContain("replica 0 is the first of its shard");
    expect(await readdir(first)).toEqual([]);
  }, 60_000);

  it("when no peer answers, then it exits 1 naming the peer and leaves no database", async () => {
    const dir = join(work, "replica-2");
    const r = await seedCli([
      ...["--data-dir", dir, "--ordinal", "2", "--wait-seconds", "0"],
      ...["--peer-template", "http://127.0.0.1:1/{ordinal}"],
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toContain("http://127.0.0.1:1/0");
    expect(r.stderr + r.stdout).toContain("http://127.0.0.1:1/1");
    expect(r.stderr + r.stdout).toContain("does not start empty");
    expect(existsSync(join(dir, "shard.db"))).toBe(false);
  }, 30_000);

  it("when the peer serves another model fingerprint, then it refuses the copy", async () => {
    const dir = join(work, "replica-3");
    const argv = [
      join(root, "bin", "embedops.mjs"),
      "snapshot",
      "seed-replica",
      "--fingerprint",
      "other0model",
    ];
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        process.execPath,
        [...argv, "--data-dir", dir, "--ordinal", "1", "--peer", peer.url, "--wait-seconds", "0"],
        { cwd: root },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain("model fingerprint");
    expect(existsSync(join(dir, "shard.db"))).toBe(false);
  }, 30_000);
});
