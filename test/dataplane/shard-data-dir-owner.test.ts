// One shard process per data dir, and no shard outliving the `embedops serve` that started it:
// real shard processes on real temp dirs.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { call, clustered, runShardToExit, type ShardProcess, startShardProcess } from "./shard-process.js";

const dim = 8;
let dir: string;
const running: ShardProcess[] = [];

async function start(supervised = false): Promise<ShardProcess> {
  const s = await startShardProcess({ dataDir: dir, dimension: dim, fingerprint: "f00d", supervised });
  running.push(s);
  await s.waitReady();
  return s;
}

async function upsert(url: string, ids: string[]): Promise<void> {
  const vectors = clustered(ids.length, dim, 3);
  const points = ids.map((id, i) => ({ id, vector: vectors[i] as number[] }));
  const r = await call(url, "POST", "/v1/points", { points });
  expect(r.status).toBe(200);
}

function exited(s: ShardProcess): Promise<number | null> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return Promise.resolve(s.proc.exitCode);
  return new Promise((resolve) => s.proc.once("exit", (code) => resolve(code)));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "embedops-shard-owner-"));
});
afterEach(async () => {
  for (const s of running.splice(0))
    if (s.proc.exitCode === null && s.proc.signalCode === null) await s.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe("a data dir held by a live shard", () => {
  it("when a second shard starts on it, then it exits 2 naming the holder's pid and the dir, and the first keeps serving", async () => {
    const first = await start();
    const second = await runShardToExit({ dataDir: dir, dimension: dim, fingerprint: "f00d" });
    expect(second.code).toBe(2);
    expect(second.output).toContain(
      `data dir ${dir} is held by another shard process, pid ${first.proc.pid}`,
    );
    expect(second.output).toContain(`kill ${first.proc.pid}`);
    await upsert(first.url, ["a", "b"]);
    expect((await call(first.url, "GET", "/readyz")).status).toBe(200);
  });

  it("when the holder was killed with SIGKILL, then the next shard opens the dir at once (the lock is never stale)", async () => {
    const first = await start();
    await upsert(first.url, ["a"]);
    await first.kill9();
    expect(existsSync(join(dir, "owner.json"))).toBe(true);
    const next = await start();
    const owner = readFileSync(join(dir, "owner.json"), "utf8");
    expect(JSON.parse(owner).pid).toBe(next.proc.pid);
    expect((await call(next.url, "GET", "/v1/points/a")).status).toBe(200);
  });
});

describe("a shard started by embedops serve", () => {
  it("when its parent's pipe on stdin closes, then it shuts down cleanly: exit 0, WAL folded, owner.json gone", async () => {
    const s = await start(true);
    await upsert(s.url, ["a", "b", "c"]);
    expect(readdirSync(dir)).toContain("shard.db-wal");
    // What the kernel does when serve dies, however it dies.
    s.proc.stdin!.destroy();
    expect(await exited(s)).toBe(0);
    const shutdown = s.logs.find((l) => l.msg === "shutting down");
    expect(shutdown).toMatchObject({ level: "warn", parentPid: process.pid });
    expect(s.logs.some((l) => l.msg === "stopped")).toBe(true);
    expect(readdirSync(dir)).not.toContain("shard.db-wal");
    expect(readdirSync(dir)).not.toContain("owner.json");
  });
});
