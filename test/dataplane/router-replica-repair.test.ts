// Issue 10 item 5, a lagging replica: replica 1 of a shard is killed with SIGKILL while a client
// writes and deletes through the router; the writes the router acknowledged from replica 0 alone are
// missing on replica 1 when it restarts on its old data dir. The router lists it as lagging, sends it
// no query, catches it up from replica 0 (POST /v1/sync after the first missed write's seq), and then
// queries it again. Checked on the replicas' own HTTP APIs: same live ids, every acknowledged write's
// text, no acknowledged delete. Real encoder, shards and router as child processes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePrometheusText } from "../../src/rollout/prometheus-text.js";
import { type Definition, nounDefinitions } from "../fixtures/corpus/noun-definitions.js";
import {
  call,
  eventually,
  haveModel,
  MODEL_DIR,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";
import { allIds, stalledPeer } from "./shard-process.js";

const docs = nounDefinitions(900, 7, "rep-");

interface LaggingEntry {
  replica: string;
  misses: number;
  repair: { phase: string; reason?: string };
}

/** Queries a shard replica answered since it started (its own /metrics). */
async function queriesAnswered(replica: string): Promise<number> {
  const res = await fetch(`${replica}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parsePrometheusText(await res.text())
    .filter((s) => s.name.endsWith("http_request_duration_seconds_count") && s.labels.route === "/v1/query")
    .reduce((n, s) => n + s.value, 0);
}

async function laggingOf(router: string): Promise<LaggingEntry[]> {
  const stats = (await call(`${router}/v1/stats`, "GET")).body as { shards: { lagging: LaggingEntry[] }[] };
  return stats.shards[0]!.lagging;
}

async function readyz(url: string): Promise<{ status: number; syncing: boolean }> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { syncing?: boolean };
    return { status: res.status, syncing: body.syncing === true };
  } catch {
    return { status: 0, syncing: false };
  }
}

/** Every live point of a replica: id → text and metadata (the vector too, as its base64 bytes). */
async function points(url: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of [...(await allIds(url))].sort()) {
    const p = (await call(`${url}/v1/points/${encodeURIComponent(id)}`, "GET")).body;
    out.set(id, JSON.stringify([p.text, p.metadata, p.vector]));
  }
  return out;
}

async function routerMetric(router: string, name: string, labels: Record<string, string>): Promise<number> {
  const res = await fetch(`${router}/metrics`);
  return parsePrometheusText(await res.text())
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/**
 * Upserts (new ids and rewrites of earlier ones with another text) and deletes, one request at a
 * time so the acknowledged order is the commit order; records what the router acknowledged.
 */
function writer(router: string, pool: readonly Definition[]) {
  const acked = new Map<string, string | null>(); // id → text, null when deleted
  const answers: { status: number; failed: string[] }[] = [];
  let running = true;
  let next = 0;
  let round = 0;
  const done = (async () => {
    while (running) {
      round++;
      let res: Response;
      let ids: string[];
      let texts: (string | null)[];
      if (round % 5 === 0 && next > 10) {
        // Delete two earlier ids (possibly already deleted: a tombstone either way).
        ids = [pool[(round * 7) % next]!.id, pool[(round * 13) % next]!.id];
        texts = ids.map(() => null);
        res = await fetch(`${router}/v1/documents/delete`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ids }),
        });
      } else {
        // Once every document was written, rounds only rewrite earlier ones: the writer never runs dry.
        const fresh = pool.slice(next, next + 4);
        next += fresh.length;
        // A rewrite of an earlier id with a new text: the lagging replica must end with the new one.
        const old = next > 12 ? pool[(round * 11) % (next - 4)]! : undefined;
        const batch = fresh.map((d) => ({ id: d.id, text: d.text }));
        if (old) batch.push({ id: old.id, text: `${old.text} (revised in round ${round})` });
        ids = batch.map((d) => d.id);
        texts = batch.map((d) => d.text);
        res = await fetch(`${router}/v1/documents`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ documents: batch }),
        });
      }
      const body = (await res.json()) as { shards?: Record<string, { failed: { replica: string }[] }> };
      answers.push({
        status: res.status,
        failed: Object.values(body.shards ?? {}).flatMap((s) => s.failed.map((f) => f.replica)),
      });
      if (res.status === 200) for (const [i, id] of ids.entries()) acked.set(id, texts[i]!);
    }
  })();
  return {
    acked,
    answers,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Vector queries through the router, one at a time, until stopped. */
function querier(router: string, fingerprint: string) {
  let running = true;
  let ok = 0;
  const vector = Array.from({ length: 384 }, (_, i) => Math.sin(i));
  const done = (async () => {
    while (running) {
      const a = await call(`${router}/v1/query`, "POST", { vector, k: 3, fingerprint }).catch(
        () => undefined,
      );
      if (a?.status === 200) ok++;
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  return {
    ok: () => ok,
    async stop() {
      running = false;
      await done;
    },
  };
}

let dir: string;
let encoder: Role;
let fingerprint: string;
const roles: Role[] = [];

beforeAll(async () => {
  if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
  dir = mkdtempSync(join(tmpdir(), "embedops-repair-"));
  encoder = await startEncoder();
  await waitReady(encoder.url);
  fingerprint = ((await (await fetch(`${encoder.url}/info`)).json()) as { fingerprint: string }).fingerprint;
}, 180_000);

afterAll(async () => {
  await Promise.all([encoder, ...roles].map((r) => r?.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function cluster(name: string, writeQuorum: "all" | number) {
  const r = await Promise.all(
    [0, 1].map((i) => startShard(join(dir, `${name}-r${i}`), fingerprint, 384, `${name}-r${i}`)),
  );
  await Promise.all(r.map((x) => waitReady(x.url)));
  roles.push(...r);
  const configPath = join(dir, `${name}.json`);
  writeConfig(configPath, {
    index: name,
    generation: "g1",
    fingerprint,
    dimension: 384,
    metric: "cosine",
    encoder: { url: encoder.url },
    shards: [{ name: "s0", replicas: r.map((x) => x.url) }],
    timeoutMs: 2000,
    writeQuorum,
    checkIntervalMs: writeQuorum === "all" ? 400 : 1000,
  });
  const router = await startRouterProcess(configPath, [], `${name}-router`);
  roles.push(router);
  await waitReady(router.url);
  return { replicas: r, router };
}

/** Restarts a killed replica on its data dir and port, as a StatefulSet or `embedops serve` would. */
async function restart(name: string, old: Role): Promise<Role> {
  const port = Number(new URL(old.url).port);
  const r = await startShard(join(dir, name), fingerprint, 384, name, port);
  roles.push(r);
  return r;
}

/** Samples replica 1's query counter while the router lists it lagging and it is ready: must stay 0. */
async function watchWhileLagging(router: string, r1: string) {
  const samples: number[] = [];
  for (;;) {
    const before = (await laggingOf(router)).length;
    if (before === 0) return samples;
    const ready = (await readyz(r1)).status === 200;
    const n = await queriesAnswered(r1).catch(() => undefined);
    const after = (await laggingOf(router)).length;
    if (ready && n !== undefined && after > 0) samples.push(n);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** The router's lines about lagging replicas and their repair, for a failure message. */
function repairLog(router: Role): string {
  return router
    .output()
    .split("\n")
    .filter((l) => /lagging|repair|liveness|catch/.test(l))
    .slice(-40)
    .join("\n");
}

function logLines(router: Role, msg: string): Record<string, unknown>[] {
  return router
    .output()
    .split("\n")
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function repairedLine(router: Role): Record<string, unknown> | undefined {
  const line = router
    .output()
    .split("\n")
    .find((l) => l.includes('"replica repaired: in sync again, queried"'));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}

describe("a replica killed with SIGKILL under writes (writeQuorum 1)", () => {
  it("when it restarts on its data dir, then it is lagging and not queried until caught up from replica 0, then holds every acknowledged write and is queried again", async () => {
    const { replicas, router } = await cluster("q1", 1);
    const r0 = replicas[0]!;
    let r1 = replicas[1]!;
    const w = writer(router.url, docs.slice(0, 600));
    const q = querier(router.url, fingerprint);
    await eventually(
      "60 writes acknowledged",
      async () => w.answers.filter((a) => a.status === 200).length >= 60,
      120_000,
    );
    await r1.kill9();
    const killedAt = w.answers.length;
    await eventually(
      "the router lists replica 1 lagging while it is down",
      async () => (await laggingOf(router.url)).some((l) => l.replica === r1.url),
      60_000,
    );
    await eventually(
      "40 more writes acknowledged while replica 1 is down",
      async () => w.answers.length >= killedAt + 41,
      120_000,
    );
    const whileDown = w.answers.slice(killedAt + 1);
    // Acknowledged by replica 0 alone: every one names replica 1 as failed.
    expect(whileDown.every((a) => a.status === 200 && a.failed.includes(r1.url))).toBe(true);
    const lag = (await laggingOf(router.url))[0]!;
    expect(lag).toMatchObject({ replica: r1.url, repair: { phase: "waiting", reason: "replica is down" } });
    expect(lag.misses).toBeGreaterThanOrEqual(40);

    r1 = await restart("q1-r1", r1);
    const samples = await watchWhileLagging(router.url, r1.url);
    // Sampled while ready and lagging in the router's view: replica 1 answered no query.
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((n) => n === 0)).toBe(true);
    const line = repairedLine(router);
    expect(line).toBeDefined();
    const started = logLines(router, "replica repair: catch-up running").at(-1);
    const catchUpMs = Date.parse(String(line?.time)) - Date.parse(String(started?.time));
    console.log(
      `repair (writeQuorum 1): ${line?.misses} missed writes, rowsCaughtUp ${line?.rowsCaughtUp}, ${catchUpMs} ms from POST /v1/sync to back in the query set, lagging ${line?.laggingMs} ms in all (downtime included), ${samples.length} samples of replica 1 at 0 queries while lagging`,
    );
    expect(
      await routerMetric(router.url, "embedops_router_replica_repairs_total", { outcome: "repaired" }),
    ).toBe(1);
    expect(await routerMetric(router.url, "embedops_router_replicas_lagging", {})).toBe(0);

    // Writes and queries go on; replica 1 takes both.
    const acksAfterRepair = w.answers.length;
    await eventually(
      "20 writes after the repair",
      async () => w.answers.length >= acksAfterRepair + 20,
      120_000,
    );
    await eventually(
      "replica 1 answers queries again",
      async () => (await queriesAnswered(r1.url)) > 0,
      30_000,
    );
    await Promise.all([w.stop(), q.stop()]);
    expect(q.ok()).toBeGreaterThan(0);

    const [p0, p1] = await Promise.all([points(r0.url), points(r1.url)]);
    expect(p1.size).toBe(p0.size);
    expect([...p1.keys()]).toEqual([...p0.keys()]);
    expect([...p1.entries()].filter(([id, v]) => p0.get(id) !== v).map(([id]) => id)).toEqual([]);
    for (const [id, text] of w.acked) {
      if (text === null) expect(p1.has(id), `deleted ${id} is absent`).toBe(false);
      else expect(JSON.parse(p1.get(id) ?? "[null]")[0], `acknowledged text of ${id}`).toBe(text);
    }
    expect([...w.acked.values()].filter((t) => t === null).length).toBeGreaterThan(0);
  }, 600_000);
});

describe("a write that fails on replica 1 only (writeQuorum all)", () => {
  it("when replica 0 committed it and the client got a 503, then replica 1 is lagging and is repaired to replica 0's rows", async () => {
    const { replicas, router } = await cluster("qall", "all");
    const r0 = replicas[0]!;
    let r1 = replicas[1]!;
    const pool = docs.slice(600, 900);
    const first = await call(`${router.url}/v1/documents`, "POST", {
      documents: pool.slice(0, 40).map((d) => ({ id: d.id, text: d.text })),
    });
    expect(first.status).toBe(200);
    await r1.kill9();
    // Committed on replica 0, failed on replica 1: not acknowledged under writeQuorum all.
    const missed = await call(`${router.url}/v1/documents`, "POST", {
      documents: pool.slice(40, 60).map((d) => ({ id: d.id, text: d.text })),
    });
    expect(missed.status).toBe(503);
    const del = await call(`${router.url}/v1/documents/delete`, "POST", {
      ids: pool.slice(0, 5).map((d) => d.id),
    });
    expect(del.status).toBe(503);
    expect((await laggingOf(router.url)).map((l) => l.replica)).toEqual([r1.url]);
    r1 = await restart("qall-r1", r1);
    await eventually(
      "replica 1 repaired",
      async () => (await laggingOf(router.url)).length === 0,
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; router log:\n${repairLog(router)}`);
    });
    expect(repairedLine(router)).toMatchObject({ replica: r1.url, rowsCaughtUp: 25 });
    const [p0, p1] = await Promise.all([points(r0.url), points(r1.url)]);
    expect(p0.size).toBe(55);
    expect([...p1.entries()]).toEqual([...p0.entries()]);
    const after = await call(`${router.url}/v1/documents`, "POST", {
      documents: pool.slice(60, 64).map((d) => ({ id: d.id, text: d.text })),
    });
    expect(after.status).toBe(200);
  }, 300_000);
});

describe("a catch-up another router (or the operator) started", () => {
  it("when a replica's /readyz says syncing, then a router that saw no miss stops querying it until the catch-up ended", async () => {
    const { replicas, router } = await cluster("foreign", 1);
    const r1 = replicas[1]!;
    const q = querier(router.url, fingerprint);
    await eventually("replica 1 answers queries", async () => (await queriesAnswered(r1.url)) > 0, 30_000);
    // A peer that has not answered the first page yet holds the catch-up running as long as needed.
    const peer = await stalledPeer();
    try {
      const started = await call(`${r1.url}/v1/sync`, "POST", { from: peer.url, afterSeq: 0 });
      expect(started.status).toBe(202);
      const replicaStats = async () =>
        (
          (await call(`${router.url}/v1/stats`, "GET")).body as {
            shards: { replicas: { catchingUp?: boolean }[] }[];
          }
        ).shards[0]!.replicas[1]!;
      await eventually(
        "the router lists replica 1 catching up",
        async () => (await replicaStats()).catchingUp === true,
      );
      // Queries are sent one at a time: two more answered means none sent before the flip is in flight.
      const seen = q.ok();
      await eventually("2 more queries", async () => q.ok() >= seen + 2);
      const before = await queriesAnswered(r1.url);
      const ok0 = q.ok();
      await eventually("20 more queries answered (by replica 0)", async () => q.ok() >= ok0 + 20);
      expect(await queriesAnswered(r1.url)).toBe(before);
      expect(await laggingOf(router.url)).toEqual([]);
      await peer.release();
      await eventually(
        "replica 1 answers queries again",
        async () => (await queriesAnswered(r1.url)) > before,
      );
      expect((await replicaStats()).catchingUp).toBeUndefined();
    } finally {
      await q.stop();
      await peer.close();
    }
  }, 120_000);
});
