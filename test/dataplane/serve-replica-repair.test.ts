// Repair of a lagging replica under `embedops serve`: one shard, replicas 2, writeQuorum 1. A client
// writes and deletes text documents through serve's router while replica 1's shard process is killed
// with SIGKILL; serve restarts it on its data dir and port, the router lists it lagging, catches it up
// from replica 0 (POST /v1/sync) and queries it again. Checked on the replicas' own HTTP APIs: same
// live ids and texts, every acknowledged write, no acknowledged delete; replica 1 answered no query
// while the router listed it lagging and it was ready.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parsePrometheusText } from "../../src/rollout/prometheus-text.js";
import { type Definition, nounDefinitions } from "../fixtures/corpus/noun-definitions.js";
import { haveModel } from "./router-harness.js";
import {
  childPids,
  commandLine,
  killServe,
  minilmIndexYaml,
  pidRunning,
  type ServeProcess,
  spawnServe,
  until,
  waitServeReady,
} from "./serve-process.js";
import { allIds } from "./shard-process.js";

const INITIAL = 300;
const pool = nounDefinitions(INITIAL + 1200, 13, "srr-");
const initial = pool.slice(0, INITIAL);
const fresh = pool.slice(INITIAL);

const yaml = minilmIndexYaml(2, ["writeQuorum: 1"]);

interface LaggingEntry {
  replica: string;
  misses: number;
  repair: { phase: string; reason?: string };
}

async function post(url: string, body: unknown, timeoutMs = 30_000): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

async function laggingOf(router: string): Promise<LaggingEntry[]> {
  const res = await fetch(`${router}/v1/stats`, { signal: AbortSignal.timeout(10_000) });
  const stats = (await res.json()) as { shards: { lagging: LaggingEntry[] }[] };
  return stats.shards[0]!.lagging;
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Sum of a metric's samples whose labels include `labels`, on `url`/metrics. */
async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parsePrometheusText(await res.text())
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** Queries a shard replica answered since it started (its own /metrics). */
async function queriesAnswered(replica: string): Promise<number> {
  const res = await fetch(`${replica}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parsePrometheusText(await res.text())
    .filter((s) => s.name.endsWith("http_request_duration_seconds_count") && s.labels.route === "/v1/query")
    .reduce((n, s) => n + s.value, 0);
}

/** Every live point's text on a replica, by id. */
async function texts(url: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of [...(await allIds(url))].sort()) {
    const res = await fetch(`${url}/v1/points/${encodeURIComponent(id)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const p = (await res.json()) as { text?: string };
    out.set(id, String(p.text));
  }
  return out;
}

interface Answer {
  at: number;
  kind: "upsert" | "delete";
  status: number;
  failed: string[];
}

/**
 * One request at a time through the router (so the acknowledged order is the commit order): a new
 * document, and every third round a delete of an earlier acknowledged one. Records what the router
 * acknowledged; an id with any unacknowledged request is "uncertain" and left out of the checks.
 */
function writer(router: string, deletable: string[]) {
  const acked = new Map<string, string | null>(); // id → text, null when deleted
  const uncertain = new Set<string>();
  const answers: Answer[] = [];
  let running = true;
  const done = (async () => {
    for (let round = 0, next = 0; running && next < fresh.length; round++) {
      let kind: Answer["kind"];
      let ids: string[];
      let values: (string | null)[];
      let send: () => Promise<Response>;
      if (round % 3 === 2 && deletable.length > 0) {
        kind = "delete";
        ids = [deletable.splice((round * 7) % deletable.length, 1)[0]!];
        values = [null];
        send = () => post(`${router}/v1/documents/delete`, { ids });
      } else {
        kind = "upsert";
        const d = fresh[next++] as Definition;
        ids = [d.id];
        values = [d.text];
        send = () => post(`${router}/v1/documents`, { documents: [{ id: d.id, text: d.text }] });
      }
      let status = 0;
      let failed: string[] = [];
      try {
        const res = await send();
        status = res.status;
        const body = (await res.json()) as { shards?: Record<string, { failed?: { replica: string }[] }> };
        failed = Object.values(body.shards ?? {}).flatMap((s) => (s.failed ?? []).map((f) => f.replica));
      } catch {
        // not acknowledged: it may or may not be there
      }
      answers.push({ at: Date.now(), kind, status, failed });
      for (const [i, id] of ids.entries()) {
        if (status === 200) {
          acked.set(id, values[i]!);
          if (kind === "upsert") deletable.push(id);
        } else uncertain.add(id);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    acked,
    uncertain,
    answers,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Text queries through the router, one at a time, until stopped. */
function querier(router: string) {
  let running = true;
  let ok = 0;
  const done = (async () => {
    for (let i = 0; running; i++) {
      try {
        const res = await post(`${router}/v1/query`, {
          text: (initial[i % INITIAL] as Definition).lemma,
          k: 3,
        });
        await res.arrayBuffer();
        if (res.status === 200) ok++;
      } catch {
        // counted only when answered
      }
      await new Promise((r) => setTimeout(r, 30));
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

/** serve's child running replica 1 of shard-0 (its data dir ends in shard-0/replica-1). */
function replicaOnePid(servePid: number): number | undefined {
  return childPids(servePid).find((pid) =>
    / shard --data-dir \S+\/shard-0\/replica-1 /.test(commandLine(pid)),
  );
}

/** The router's JSON log lines with message `msg` (serve writes each child's log to <data-dir>/logs). */
function routerLog(dataDir: string, msg: string): Record<string, unknown>[] {
  const logs = join(dataDir, "logs");
  const file = readdirSync(logs).find((f) => f.startsWith("docs-router"));
  if (!file) return [];
  return readFileSync(join(logs, file), "utf8")
    .split("\n")
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe.skipIf(!haveModel())("embedops serve: repair of a lagging replica", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "embedops-serve-repair-"));
  const file = join(dataDir, "index.yaml");
  let serve: ServeProcess | undefined;

  afterAll(async () => {
    if (serve) {
      writeFileSync(join(tmpdir(), "embedops-serve-replica-repair.log"), serve.output());
      await killServe(serve);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("when replica 1's shard process is killed with SIGKILL under writes and deletes (writeQuorum 1), then writes stay acknowledged, the router lists it lagging, repairs it from replica 0, and both replicas hold the same live ids", {
    timeout: 420_000,
  }, async () => {
    writeFileSync(file, yaml);
    serve = spawnServe({ dataDir, file });
    const state = await waitServeReady(serve);
    const router = state.indexes.docs!.router;
    const [r0, r1] = state.indexes.docs!.shards[0]!;
    expect(r0).toBeDefined();
    expect(r1).toBeDefined();
    for (let i = 0; i < INITIAL; i += 100) {
      const res = await post(
        `${router}/v1/documents`,
        {
          documents: initial.slice(i, i + 100).map((d) => ({ id: d.id, text: d.text })),
        },
        120_000,
      );
      expect(res.status).toBe(200);
    }

    const w = writer(
      router,
      initial.map((d) => d.id),
    );
    const q = querier(router);
    await until(
      "30 writes acknowledged",
      120_000,
      () => w.answers.filter((a) => a.status === 200).length >= 30,
    );
    await until(
      "replica 1 answers queries before the kill",
      30_000,
      async () => (await queriesAnswered(r1!)) > 0,
    );

    // What the router says about replica 1, sampled every 100 ms from the kill on, and replica 1's
    // query counter whenever it was ready and listed lagging both before and after reading it.
    const seen = { lagging: 0, laggingWhileDown: 0, phases: new Set<string>(), maxMisses: 0 };
    const whileLagging: number[] = [];
    let sampling = true;
    let readyAgainAt: number | undefined;
    let clearedAt: number | undefined;
    const sampler = (async () => {
      while (sampling) {
        const before = await laggingOf(router).catch(() => undefined);
        const mine = before?.find((l) => l.replica === r1);
        const up = await ready(r1!);
        if (up && readyAgainAt === undefined && seen.lagging > 0) readyAgainAt = Date.now();
        if (mine) {
          seen.lagging++;
          if (!up) seen.laggingWhileDown++;
          seen.phases.add(mine.repair.phase);
          seen.maxMisses = Math.max(seen.maxMisses, mine.misses);
          if (up) {
            const n = await queriesAnswered(r1!).catch(() => undefined);
            const after = await laggingOf(router).catch(() => undefined);
            if (n !== undefined && after?.some((l) => l.replica === r1)) whileLagging.push(n);
          }
        } else if (before && seen.lagging > 0 && clearedAt === undefined) clearedAt = Date.now();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const pid = replicaOnePid(serve.proc.pid!);
    expect(pid, `replica 1 among serve's children: ${childPids(serve.proc.pid!)}`).toBeDefined();
    const killedAt = Date.now();
    process.kill(pid!, "SIGKILL");
    await until("replica 1's process is gone", 10_000, () => !pidRunning(pid!));

    try {
      await until("serve restarted replica 1 (a new process on its data dir)", 60_000, () => {
        const again = replicaOnePid(serve!.proc.pid!);
        return again !== undefined && again !== pid;
      });
      await until("replica 1 ready again on its URL", 60_000, () => readyAgainAt !== undefined, 50);
      await until("the router lists replica 1 in sync again", 120_000, () => clearedAt !== undefined, 50);
    } finally {
      sampling = false;
      await sampler;
    }
    const restartedAt = readyAgainAt!;
    const whileDown = w.answers.filter((a) => a.at > killedAt && a.at <= restartedAt);
    const missedWhileDown = whileDown.filter((a) => a.failed.includes(r1!));
    // Writes went on while replica 1 was down: replica 0 alone acknowledged them.
    expect(whileDown.length).toBeGreaterThan(0);
    expect(whileDown.filter((a) => a.status !== 200)).toEqual([]);
    expect(missedWhileDown.length).toBeGreaterThan(0);
    // The router listed it lagging, also while it was down, and repaired it from replica 0.
    expect(seen.lagging).toBeGreaterThan(0);
    expect(seen.laggingWhileDown).toBeGreaterThan(0);
    expect(seen.maxMisses).toBeGreaterThan(0);
    const repairs = await metric(router, "embedops_router_replica_repairs_total", { outcome: "repaired" });
    expect(repairs).toBeGreaterThanOrEqual(1);
    expect(await metric(router, "embedops_router_replicas_lagging")).toBe(0);
    // Ready and listed lagging: replica 1 answered no query (its counter restarted with the process).
    expect(whileLagging.length).toBeGreaterThan(0);
    expect(whileLagging.every((n) => n === 0)).toBe(true);
    const repaired = routerLog(dataDir, "replica repaired: in sync again, queried").filter(
      (l) => l.replica === r1,
    );
    expect(repaired.length).toBeGreaterThanOrEqual(1);
    const line = repaired.at(-1)!;
    const started = routerLog(dataDir, "replica repair: catch-up running")
      .filter((l) => l.replica === r1)
      .at(-1);
    expect(Number(line.rowsCaughtUp)).toBeGreaterThan(0);
    expect(Number(line.misses)).toBeGreaterThanOrEqual(missedWhileDown.length);

    // Writes go on after the repair; replica 1 takes queries again.
    const afterRepair = w.answers.length;
    await until("20 writes after the repair", 120_000, () => w.answers.length >= afterRepair + 20);
    await until("replica 1 answers queries again", 30_000, async () => (await queriesAnswered(r1!)) > 0);
    await Promise.all([w.stop(), q.stop()]);
    const unacked = w.answers.filter((a) => a.status !== 200).length;
    expect(unacked).toBe(0);

    const [t0, t1] = [await texts(r0!), await texts(r1!)];
    expect(t1.size).toBe(t0.size);
    expect([...t1.keys()]).toEqual([...t0.keys()]);
    expect([...t1].filter(([id, text]) => t0.get(id) !== text).map(([id]) => id)).toEqual([]);
    const certain = [...w.acked].filter(([id]) => !w.uncertain.has(id));
    const writes = certain.filter(([, text]) => text !== null);
    const deletes = certain.filter(([, text]) => text === null);
    expect(writes.filter(([id, text]) => t1.get(id) !== text).map(([id]) => id)).toEqual([]);
    expect(deletes.filter(([id]) => t1.has(id)).map(([id]) => id)).toEqual([]);
    expect(deletes.length).toBeGreaterThan(0);

    console.log(
      `serve replica repair (writeQuorum 1): ${w.answers.length} writes/deletes sent, ${unacked} not acknowledged; ` +
        `${whileDown.length} sent while replica 1 was down (${restartedAt - killedAt} ms from SIGKILL to ready again), all acknowledged, ${missedWhileDown.length} naming replica 1 failed; ` +
        `router listed it lagging in ${seen.lagging} samples (${seen.laggingWhileDown} while down, phases ${[...seen.phases].join("/")}, up to ${seen.maxMisses} misses); ` +
        `repaired (embedops_router_replica_repairs_total{outcome="repaired"} ${repairs}): ${line.misses} missed writes, ${line.rowsCaughtUp} rows caught up, ` +
        `${started ? Date.parse(String(line.time)) - Date.parse(String(started.time)) : "?"} ms from POST /v1/sync to back in the query set, ` +
        `lagging ${line.laggingMs} ms in all, ${clearedAt! - killedAt} ms from SIGKILL to out of /v1/stats lagging; ` +
        `${whileLagging.length} samples of replica 1 at 0 queries while ready and lagging; ` +
        `then ${t1.size} live ids on both replicas, ${writes.length} acknowledged writes present, ${deletes.length} acknowledged deletes absent, ${q.ok()} queries answered`,
    );
  });
});
