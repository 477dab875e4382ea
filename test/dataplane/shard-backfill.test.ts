// What a generation change's backfill needs from a real `embedops shard` process: `ifAbsent` writes
// that never overwrite a newer write nor resurrect a delete, tombstones for deletes of ids the shard
// never had, a durable /v1/meta cursor, and a scan that says where the shard's seq ends.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createShardListener } from "../../src/shard/query-listener.js";
import { Shard, shardDefaults } from "../../src/shard/shard.js";
import { encodeBinaryPoints, float32FromBytes, maxMetaValueBytes } from "../../src/shard/wire.js";
import { createLogger } from "../../src/util/log.js";
import { call, clustered, type ShardProcess, startShardProcess } from "./shard-process.js";

const dim = 16;
const fp = "bacf111";
const vectors = clustered(64, dim, 23);
const v = (i: number) => vectors[i] as number[];
let dir: string;
const running: ShardProcess[] = [];

async function start(): Promise<ShardProcess> {
  const s = await startShardProcess({
    dataDir: dir,
    dimension: dim,
    fingerprint: fp,
    extra: ["--checkpoint-interval-seconds", "0"],
  });
  running.push(s);
  await s.waitReady();
  return s;
}

type Point = { id: string; vector: number[]; metadata?: Record<string, unknown>; text?: string };

/** POST /v1/points in one of the two body formats, with an optional query string. */
function write(url: string, points: Point[], format: "json" | "binary", qs = "") {
  return format === "json"
    ? call(url, "POST", `/v1/points${qs}`, { points })
    : call(url, "POST", `/v1/points${qs}`, encodeBinaryPoints(points), {
        "content-type": "application/x-embedops-points",
        "x-embedops-model-fingerprint": fp,
      });
}

async function stats(url: string) {
  return (await call(url, "GET", "/v1/stats")).body as { count: number; tombstones: number; lastSeq: number };
}

async function topIds(url: string, vector: number[], k = 5): Promise<string[]> {
  const r = await call(url, "POST", "/v1/query", { vector, k });
  return (r.body.results as { id: string }[]).map((x) => x.id);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "embedops-shard-backfill-"));
});
afterEach(async () => {
  for (const s of running.splice(0))
    if (s.proc.exitCode === null && s.proc.signalCode === null) await s.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe("ifAbsent writes", () => {
  for (const format of ["json", "binary"] as const) {
    it(`when a ${format} ifAbsent batch holds a live id, a tombstoned id and a new id, then only the new one is written`, async () => {
      const s = await start();
      // What clients wrote to the new generation before the backfill got there.
      expect(
        (await write(s.url, [{ id: "live", vector: v(0), text: "client's update" }], format)).status,
      ).toBe(200);
      expect((await write(s.url, [{ id: "gone", vector: v(1), text: "client's doc" }], format)).status).toBe(
        200,
      );
      expect((await call(s.url, "POST", "/v1/points/delete", { ids: ["gone"] })).body).toMatchObject({
        deleted: 1,
      });
      const before = await stats(s.url);

      const r = await write(
        s.url,
        [
          { id: "live", vector: v(10), text: "backfill's older copy" },
          { id: "gone", vector: v(11), text: "backfill's copy of a deleted doc" },
          { id: "fresh", vector: v(12), text: "backfill's copy", metadata: { from: "backfill" } },
        ],
        format,
        "?ifAbsent=true",
      );
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ upserted: 1, skipped: 2, lastSeq: before.lastSeq + 1 });

      const live = await call(s.url, "GET", "/v1/points/live");
      expect(live.body.text).toBe("client's update");
      expect(Array.from(float32FromBytes(Buffer.from(live.body.vector as string, "base64")))).toEqual(
        Array.from(Float32Array.from(v(0))),
      );
      expect((await call(s.url, "GET", "/v1/points/gone")).status).toBe(404);
      expect(await topIds(s.url, v(11))).not.toContain("gone");
      const fresh = await call(s.url, "GET", "/v1/points/fresh");
      expect(fresh.status).toBe(200);
      expect(fresh.body).toMatchObject({ text: "backfill's copy", metadata: { from: "backfill" } });
      expect((await topIds(s.url, v(12)))[0]).toBe("fresh");
      expect(await stats(s.url)).toMatchObject({ count: before.count + 1, tombstones: before.tombstones });
    });
  }

  it("when a plain write (no ifAbsent) meets a live or tombstoned id, then it still replaces it and reports skipped 0", async () => {
    const s = await start();
    await write(s.url, [{ id: "a", vector: v(0), text: "first" }], "json");
    await call(s.url, "POST", "/v1/points/delete", { ids: ["b"] });
    const r = await write(
      s.url,
      [
        { id: "a", vector: v(1), text: "second" },
        { id: "b", vector: v(2), text: "after its delete" },
      ],
      "json",
      "?ifAbsent=false",
    );
    expect(r.body).toMatchObject({ upserted: 2, skipped: 0 });
    expect((await call(s.url, "GET", "/v1/points/a")).body.text).toBe("second");
    expect((await call(s.url, "GET", "/v1/points/b")).body.text).toBe("after its delete");
  });

  it("when ifAbsent is not a boolean, then 400 names it and nothing is written", async () => {
    const s = await start();
    const r = await write(s.url, [{ id: "x", vector: v(0) }], "json", "?ifAbsent=maybe");
    expect(r.status).toBe(400);
    expect(r.body.field).toBe("ifAbsent");
    expect((await stats(s.url)).lastSeq).toBe(0);
  });
});

describe("deletes of ids the shard never had", () => {
  it("when an unknown id is deleted and the backfill then writes it ifAbsent, then it stays absent (get, query, stats), also after kill -9", async () => {
    const s = await start();
    await write(s.url, [{ id: "other", vector: v(5), text: "unrelated" }], "json");
    const before = await stats(s.url);

    const d = await call(s.url, "POST", "/v1/points/delete", { ids: ["ghost"] });
    expect(d.body).toMatchObject({ deleted: 0, notFound: 1, lastSeq: before.lastSeq + 1 });
    // The single-id route answers 404 as before, and leaves a tombstone all the same.
    expect((await call(s.url, "DELETE", "/v1/points/ghost-2")).status).toBe(404);
    const afterDeletes = await stats(s.url);
    expect(afterDeletes).toMatchObject({
      count: before.count,
      tombstones: before.tombstones + 2,
      lastSeq: before.lastSeq + 2,
    });

    const backfill = [
      { id: "ghost", vector: v(20), text: "backfill's copy" },
      { id: "ghost-2", vector: v(21), text: "backfill's copy" },
    ];
    const r = await write(s.url, backfill, "binary", "?ifAbsent=true");
    expect(r.body).toMatchObject({ upserted: 0, skipped: 2, lastSeq: afterDeletes.lastSeq });
    for (const id of ["ghost", "ghost-2"])
      expect((await call(s.url, "GET", `/v1/points/${id}`)).status).toBe(404);
    expect(await topIds(s.url, v(20))).toEqual(["other"]);
    expect((await stats(s.url)).count).toBe(before.count);

    // The tombstones are rows in SQLite, not memory: a restart still skips.
    await s.kill9();
    const again = await start();
    const retry = await write(again.url, backfill, "json", "?ifAbsent=true");
    expect(retry.body).toMatchObject({ upserted: 0, skipped: 2 });
    expect((await call(again.url, "GET", "/v1/points/ghost")).status).toBe(404);
    expect(await stats(again.url)).toMatchObject({ count: before.count, tombstones: before.tombstones + 2 });
  });
});

describe("/v1/meta", () => {
  it("when a value is PUT and then overwritten, then GET returns the latest, also after kill -9 and a restart on the same data dir", async () => {
    const s = await start();
    expect((await call(s.url, "GET", "/v1/meta/backfill.cursor")).status).toBe(404);
    const first = await call(s.url, "PUT", "/v1/meta/backfill.cursor", { value: { afterSeq: 10 } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ key: "backfill.cursor", value: { afterSeq: 10 } });
    const cursor = { afterSeq: 4096, copied: 4000, withoutText: 3, from: "gen-1" };
    await call(s.url, "PUT", "/v1/meta/backfill.cursor", { value: cursor });
    await call(s.url, "PUT", "/v1/meta/other", { value: null });
    expect((await call(s.url, "GET", "/v1/meta/backfill.cursor")).body).toEqual({
      key: "backfill.cursor",
      value: cursor,
    });

    await s.kill9();
    const again = await start();
    expect((await call(again.url, "GET", "/v1/meta/backfill.cursor")).body).toEqual({
      key: "backfill.cursor",
      value: cursor,
    });
    expect((await call(again.url, "GET", "/v1/meta/other")).body).toEqual({ key: "other", value: null });
    expect((await call(again.url, "GET", "/v1/meta/absent")).status).toBe(404);
  });

  it("when the key is malformed or the value too big, then 400 says which and why, and nothing is stored", async () => {
    const s = await start();
    for (const key of ["schemaVersion:x", "bad%20key", "x".repeat(129)]) {
      for (const method of ["GET", "PUT"]) {
        const r = await call(s.url, method, `/v1/meta/${key}`, method === "PUT" ? { value: 1 } : undefined);
        expect(r.status, `${method} ${key}`).toBe(400);
        expect(r.body.field).toBe("key");
        expect(String(r.body.error)).toContain("1..128 characters of A-Z, a-z, 0-9");
      }
    }
    const big = await call(s.url, "PUT", "/v1/meta/cursor", { value: "x".repeat(maxMetaValueBytes) });
    expect(big.status).toBe(400);
    expect(big.body.field).toBe("value");
    expect(String(big.body.error)).toContain(`at most ${maxMetaValueBytes} bytes`);
    const missing = await call(s.url, "PUT", "/v1/meta/cursor", { cursor: 1 });
    expect(missing.status).toBe(400);
    expect((await call(s.url, "GET", "/v1/meta/cursor")).status).toBe(404);
  });

  it("when a key names one of the store's own meta rows, then it is a different key (no collision)", async () => {
    const s = await start();
    expect((await call(s.url, "GET", "/v1/meta/fingerprint")).status).toBe(404);
    await call(s.url, "PUT", "/v1/meta/fingerprint", { value: "not the model's" });
    expect((await call(s.url, "GET", "/v1/meta/fingerprint")).body.value).toBe("not the model's");
    await s.stop();
    // The identity check at start still finds the generation's real fingerprint.
    const again = await start();
    expect((await call(again.url, "GET", "/v1/stats")).body.fingerprint).toBe(fp);
  });
});

describe("scan for the backfill", () => {
  it("when pages are read, then each reports the shard's lastSeq, done only on the short page, and null text for vector-only documents", async () => {
    const s = await start();
    await write(
      s.url,
      [
        { id: "t0", vector: v(0), text: "zero" },
        { id: "n1", vector: v(1) },
        { id: "t2", vector: v(2), text: "two" },
      ],
      "json",
    );
    await write(
      s.url,
      [
        { id: "n3", vector: v(3), metadata: { k: 3 } },
        { id: "t4", vector: v(4), text: "four" },
      ],
      "binary",
    );
    await call(s.url, "POST", "/v1/points/delete", { ids: ["t4", "never-here"] });
    const lastSeq = (await stats(s.url)).lastSeq;
    expect(lastSeq).toBe(7);

    const pages: Record<string, unknown>[] = [];
    let after = 0;
    for (;;) {
      const r = await call(s.url, "GET", `/v1/scan?afterSeq=${after}&limit=2`);
      expect(r.status).toBe(200);
      pages.push(r.body);
      after = r.body.nextAfterSeq as number;
      if (r.body.done) break;
      expect(pages.length).toBeLessThan(5);
    }
    expect(pages.map((p) => (p.items as unknown[]).length)).toEqual([2, 2, 0]);
    expect(pages.map((p) => p.done)).toEqual([false, false, true]);
    expect(pages.every((p) => p.lastSeq === lastSeq)).toBe(true);
    const items = pages.flatMap(
      (p) => p.items as { id: string; seq: number; text: unknown; metadata: unknown }[],
    );
    expect(items.map((x) => [x.id, x.text])).toEqual([
      ["t0", "zero"],
      ["n1", null],
      ["t2", "two"],
      ["n3", null],
    ]);
    expect(items.every((x) => "text" in x && "metadata" in x && typeof x.seq === "number")).toBe(true);
    expect(items.filter((x) => x.text === null)).toHaveLength(2);
  });
});

describe("readiness", () => {
  it("when the shard has not loaded its index yet, then meta GET/PUT and ifAbsent writes answer 503 like other writes", async () => {
    // In process, with load() never called: the only way to hold a shard in "loading" for certain.
    const shard = new Shard(
      { ...shardDefaults, dataDir: dir, shardId: "l", dimension: dim, metric: "cosine", fingerprint: fp },
      createLogger({ test: "backfill-readiness" }),
    );
    const server = createServer(createShardListener(shard, createLogger({ test: "backfill-readiness" })));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const answers = [
        await call(url, "GET", "/v1/meta/cursor"),
        await call(url, "PUT", "/v1/meta/cursor", { value: 1 }),
        await write(url, [{ id: "a", vector: v(0) }], "json", "?ifAbsent=true"),
      ];
      expect(answers.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(String(answers[1]?.body.error)).toContain("loading");
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await shard.close();
    }
  });
});
