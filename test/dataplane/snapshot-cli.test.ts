// `embedops snapshot create|list|restore|delete` as a user runs it: the real CLI as a child process,
// against real shard processes named in a serve.json (the file `embedops serve` writes; no encoder
// is needed to copy shards) and a path store and a real versitygw S3 server.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generationName } from "../../src/core/generation.js";
import { shardDataDir } from "../../src/local/plan.js";
import { shardForId } from "../../src/router/shard-hash.js";
import { allIds, call, clustered, type ShardProcess, startShardProcess } from "./shard-process.js";
import { startVersitygw, type Versitygw } from "./versitygw.js";

const root = join(import.meta.dirname, "..", "..");
const dim = 8;
const fp = "feedc0ffee0123456789";
const N = 300;
let work: string;
let dataDir: string;
let gw: Versitygw;
const shards: ShardProcess[] = [];

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const proc = spawn(
    process.execPath,
    [join(root, "bin", "embedops.mjs"), "snapshot", ...args, "--data-dir", dataDir],
    {
      cwd: root,
      env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  proc.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => proc.once("close", (code) => resolve({ code, out, err })));
}

const s3Env = () => ({
  AWS_ACCESS_KEY_ID: gw.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: gw.credentials.secretAccessKey,
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-snapshot-cli-"));
  dataDir = join(work, "data");
  await mkdir(join(work, "store"), { recursive: true });
  await mkdir(dataDir, { recursive: true });
  gw = await startVersitygw();
  for (let s = 0; s < 2; s++) {
    const p = await startShardProcess({ dataDir: join(work, `src-${s}`), dimension: dim, fingerprint: fp });
    shards.push(p);
    await p.waitReady();
  }
  const vectors = clustered(N, dim, 3);
  const per: { id: string; vector: number[]; text: string }[][] = [[], []];
  for (const [i, v] of vectors.entries())
    per[shardForId(`d-${i}`, 2)]?.push({ id: `d-${i}`, vector: v, text: `t${i}` });
  for (let s = 0; s < 2; s++)
    expect((await call(shards[s]!.url, "POST", "/v1/points", { points: per[s] })).status).toBe(200);
  const state = {
    pid: process.pid,
    file: join(work, "serve.yaml"),
    models: { mini: { url: "http://127.0.0.1:9", fingerprint: fp } },
    indexes: { docs: { router: "http://127.0.0.1:9", model: "mini", shards: shards.map((s) => [s.url]) } },
  };
  await writeFile(join(dataDir, "serve.json"), JSON.stringify(state));
}, 180_000);

afterAll(async () => {
  for (const s of shards) await s.stop();
  await gw?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("embedops snapshot CLI", () => {
  it("when create runs against serve's index with a path store, then it reports a complete snapshot with every vector", async () => {
    const r = await cli([
      "create",
      "--index",
      "docs",
      "--name",
      "s1",
      "--store",
      `path:${join(work, "store")}`,
    ]);
    expect(r.err).not.toMatch(/"level":"error"/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/snapshot s1 of docs: 2 shards, 300 vectors, .* \(complete\)/);
  }, 60_000);

  it("when create runs against S3 with --staging http, then the copies go over the shards' API, it succeeds and no output carries the secret", async () => {
    const r = await cli(
      [
        "create",
        "--index",
        "docs",
        "--name",
        "s1",
        "--store",
        `s3://${gw.bucket}/team`,
        "--endpoint",
        gw.endpoint,
        "--staging",
        "http",
      ],
      s3Env(),
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/"msg":"snapshot shard uploaded".*"transport":"http"/);
    expect(r.out).toMatch(/300 vectors, .* at s3:\/\/[^/]+\/team\/docs\/s1\/ \(complete\)/);
    expect(r.out + r.err).not.toContain(gw.credentials.secretAccessKey);
    const list = await cli(["list", "--store", `s3://${gw.bucket}/team`, "--endpoint", gw.endpoint], s3Env());
    expect(list.out).toMatch(/docs\s+s1\s+complete\s+2\s+300/);
  }, 60_000);

  it("when S3 credentials are missing, then the CLI says which variables to set", async () => {
    const r = await cli(["list", "--store", `s3://${gw.bucket}`, "--endpoint", gw.endpoint]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it("when restore makes a new 3-shard index from the snapshot, then shards started on its dirs serve the same documents", async () => {
    const r = await cli([
      "restore",
      "s1",
      "--index",
      "docs-copy",
      "--shards",
      "3",
      "--store",
      `path:${join(work, "store")}`,
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/300 documents \(moved by id hash\)/);
    const ids = new Set<string>();
    for (let s = 0; s < 3; s++) {
      const p = await startShardProcess({
        dataDir: shardDataDir(dataDir, "docs-copy", generationName(fp), `shard-${s}`, 0),
        dimension: dim,
        fingerprint: fp,
      });
      await p.waitReady();
      for (const id of await allIds(p.url)) ids.add(id);
      await p.stop();
    }
    expect(ids.size).toBe(N);
    const again = await cli([
      "restore",
      "s1",
      "--index",
      "docs-copy",
      "--shards",
      "3",
      "--store",
      `path:${join(work, "store")}`,
    ]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/restore target .*docs-copy.* is not empty/);
  }, 120_000);

  it("when delete removes the snapshot, then list no longer shows it", async () => {
    const store = `path:${join(work, "store")}`;
    expect((await cli(["list", "--store", store])).out).toMatch(/docs\s+s1\s+complete/);
    const d = await cli(["delete", "s1", "--store", store]);
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/deleted snapshot docs\/s1: \d+ objects/);
    expect((await cli(["list", "--store", store])).out).toBe("no snapshots\n");
  }, 60_000);
});
