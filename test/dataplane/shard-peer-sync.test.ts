// A syncing replica's catch-up (POST /v1/sync) between two real shards (SQLite, hnswlib, HTTP): the
// replica is seeded from the peer's copy at watermark W, takes "router" writes, then copies the peer's
// rows after W under the rule that a row it wrote after the catch-up began is never overwritten.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createShardListener } from "../../src/shard/query-listener.js";
import { Shard, shardDefaults } from "../../src/shard/shard.js";
import { applyPeerRow } from "../../src/shard/store.js";
import { createLogger } from "../../src/util/log.js";
import { allIds, call, clustered, stalledPeer } from "./shard-process.js";

const dim = 8;
const fp = "5eed5ync";
const vectors = clustered(32, dim, 41);
const v = (i: number) => vectors[i] as number[];
const log = createLogger({ test: "shard-peer-sync" });
let dir: string;
const open: { shard: Shard; server: Server }[] = [];

async function serve(dataDir: string, id: string): Promise<{ shard: Shard; url: string }> {
  const shard = new Shard(
    {
      ...shardDefaults,
      dataDir,
      shardId: id,
      dimension: dim,
      metric: "l2",
      fingerprint: fp,
      checkpointIntervalSeconds: 0,
    },
    log,
  );
  await shard.load();
  const server = createServer(createShardListener(shard, log));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  open.push({ shard, server });
  return { shard, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const upsert = (url: string, points: { id: string; vector: number[] }[]) =>
  call(url, "POST", "/v1/points", { points });
const del = (url: string, ids: string[]) => call(url, "POST", "/v1/points/delete", { ids });

async function vectorOf(url: string, id: string): Promise<number[] | undefined> {
  const r = await call(url, "GET", `/v1/points/${id}`);
  if (r.status === 404) return undefined;
  return [...new Float32Array(Uint8Array.from(Buffer.from(String(r.body.vector), "base64")).buffer)];
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "embedops-peer-sync-"));
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await new Promise((resolve) => o.server.close(resolve));
    await o.shard.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("applyPeerRow (the catch-up rule)", () => {
  it.each([
    [undefined, 10, true, "no row of ours: take the peer's"],
    [3, 10, true, "ours came with the seed copy (seq <= J): the peer's is as new or newer"],
    [10, 10, true, "ours is exactly at J: written before the catch-up began"],
    [11, 10, false, "ours was written after J: a router write, newer than the peer's"],
  ])("when our seq is %s and J is %s, then apply is %s (%s)", (local, joined, want, _why) => {
    expect(applyPeerRow(local, joined)).toBe(want);
  });
});

describe("POST /v1/sync", () => {
  it("when the peer changed after the seed copy (update, insert, delete, a tombstone of an unknown id), then after the catch-up the replica holds exactly the peer's live ids and vectors", async () => {
    const peer = await serve(join(dir, "peer"), "s/0");
    await upsert(peer.url, [
      { id: "a", vector: v(0) },
      { id: "b", vector: v(1) },
      { id: "c", vector: v(2) },
      { id: "gone", vector: v(3) },
    ]);
    // The seed: the peer's consistent copy at W, laid out as a data dir.
    const staging = join(dir, "replica.staging");
    const copy = await peer.shard.snapshotTo(staging);
    const replicaDir = join(dir, "replica");
    mkdirSync(join(replicaDir, "checkpoints"), { recursive: true });
    for (const name of readdirSync(staging))
      renameSync(join(staging, name), join(replicaDir, name === "shard.db" ? name : `checkpoints/${name}`));
    // Writes the replica missed: before it joined the router's write set.
    await upsert(peer.url, [
      { id: "a", vector: v(10) },
      { id: "e", vector: v(11) },
    ]);
    await del(peer.url, ["gone", "never-seen"]);
    const replica = await serve(replicaDir, "s/0");
    expect(await allIds(replica.url)).toEqual(new Set(["a", "b", "c", "gone"]));
    // After it joined the write set: a write both got.
    await upsert(peer.url, [{ id: "c", vector: v(12) }]);
    await upsert(replica.url, [{ id: "c", vector: v(12) }]);

    const started = await call(replica.url, "POST", "/v1/sync", { from: peer.url, afterSeq: copy.seq });
    expect(started.status).toBe(202);
    let status = started.body;
    for (let i = 0; i < 100 && status.phase === "running"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await call(replica.url, "GET", "/v1/sync")).body;
    }
    expect(status.phase).toBe("done");
    expect(await allIds(replica.url)).toEqual(new Set(["a", "b", "c", "e"]));
    expect(await allIds(replica.url)).toEqual(new Set([...(await allIds(peer.url))]));
    expect(await vectorOf(replica.url, "e")).toEqual(await vectorOf(peer.url, "e"));
    expect(await vectorOf(replica.url, "c")).toEqual(await vectorOf(peer.url, "c"));
    expect(await vectorOf(replica.url, "a")).toEqual(await vectorOf(peer.url, "a"));
    const q = await call(replica.url, "POST", "/v1/query", { vector: v(11), k: 1 });
    expect((q.body.results as { id: string }[])[0]?.id).toBe("e");
    expect(status).toMatchObject({ upserted: 3, deleted: 1, pages: 1 });
  });

  it("when a peer page arrives after the router wrote an id to the replica, then the router's row stays and the peer's tombstone after W deletes", async () => {
    const replica = await serve(join(dir, "replica"), "s/0");
    await upsert(replica.url, [
      { id: "a", vector: v(0) },
      { id: "b", vector: v(1) },
    ]);
    const joinedAtSeq = replica.shard.lastSeq;
    await upsert(replica.url, [{ id: "a", vector: v(20) }]); // the router's write, after J
    const applied = await replica.shard.applyPeerRows(
      [
        { id: "a", vector: Float32Array.from(v(10)), metadata: null, text: "older" },
        { id: "b", vector: null, metadata: null, text: null },
        { id: "x", vector: null, metadata: null, text: null },
      ],
      joinedAtSeq,
    );
    expect(applied).toEqual({ upserted: 0, deleted: 1, skipped: 1 });
    expect(await vectorOf(replica.url, "a")).toEqual([...Float32Array.from(v(20))]);
    expect(await allIds(replica.url)).toEqual(new Set(["a"]));
    const q = await call(replica.url, "POST", "/v1/query", { vector: v(1), k: 5 });
    expect((q.body.results as { id: string }[]).map((r) => r.id)).toEqual(["a"]);
  });
});

describe("GET /readyz during a catch-up", () => {
  it("when a catch-up runs, then /readyz stays 200 and says syncing (routers stop querying it); once it ended, it no longer does", async () => {
    const replica = await serve(join(dir, "replica"), "s/1");
    // A peer that has not answered its first page yet: the catch-up is running until it does.
    const peer = await stalledPeer();
    const from = peer.url;
    try {
      expect((await call(replica.url, "GET", "/readyz")).body).toEqual({ ready: true });
      expect((await call(replica.url, "POST", "/v1/sync", { from, afterSeq: 0 })).status).toBe(202);
      const during = await call(replica.url, "GET", "/readyz");
      expect(during.status).toBe(200);
      expect(during.body).toEqual({ ready: true, syncing: true });
      await peer.release();
      for (;;) {
        const s = await call(replica.url, "GET", "/v1/sync");
        if (s.body.phase !== "running") break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await call(replica.url, "GET", "/v1/sync")).body.phase).toBe("failed");
      expect((await call(replica.url, "GET", "/readyz")).body).toEqual({ ready: true });
    } finally {
      await peer.close();
    }
  });
});
