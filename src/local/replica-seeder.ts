// serve's replica seeding: when spec.replicas goes up (live, or at start-up over an empty data dir),
// each new replica is filled before the router sends it a query:
//   1. copy: a serving peer's consistent copy (POST /v1/snapshot {dir}) at watermark W, into a
//      staging dir beside the new replica's data dir, moved into place;
//   2. start the replica on it, and add it to the router's write set only (`syncing` in the config);
//   3. once the router writes to it and no write that started before is still running, the replica
//      copies the peer's rows after W (POST /v1/sync, src/shard/peer-sync.ts);
//   4. the router config moves it to the query set.
// A marker file beside the data dir says a seeding began: a serve that dies midway seeds it again.
// When spec.replicas goes down, the extra replicas leave the router, stop, and their data is removed
// (it stops taking writes, so it would be stale if the replica came back).
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { GenerationRef } from "../generation/generation-rollout.js";
import { placeFile } from "../snapshot/restore.js";
import type { Logger } from "../util/log.js";
import type { LocalIndex } from "./plan.js";
import {
  describeSeeding,
  type ReplicaAction,
  replicaActions,
  type SeedingStatus,
  type ShardObservation,
} from "./replica-plan.js";

export const SEED_TICK_MS = 1000;
const RETRY_AFTER_MS = 5000;
const JOIN_TIMEOUT_MS = 60_000;
const POLL_MS = 200;

export interface ReplicaIo {
  /** The index's active generation; `moving` while a move to a new one runs (replica changes wait). */
  active(): { ref: GenerationRef; moving: boolean };
  replicaDir(generation: string, shard: string, replica: number): string;
  /** The shard's replicas whose processes run, with their URLs. */
  running(generation: string, shard: string): { replica: number; url: string }[];
  /** Starts the replica on its data dir and waits until it is ready. */
  startReplica(ref: GenerationRef, shard: string, replica: number): Promise<string>;
  stopReplica(generation: string, shard: string, replica: number): Promise<void>;
  /** The router config's replicas per shard (index order): serving ones, and syncing (write-only) ones. */
  setReplicas(generation: string, serving: string[][], syncing: string[][]): void;
  routerUrl(): string | undefined;
  /** Seeding progress changed (serve.json). */
  report(statuses: SeedingStatus[]): void;
  say(line: string): void;
}

export const markerPath = (dir: string) => `${dir}.seeding`;
export const stagingPath = (dir: string) => `${dir}.staging`;

/** A data dir that holds a shard database. */
export function hasData(dir: string): boolean {
  return existsSync(`${dir}/shard.db`);
}

async function postJson(url: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ReplicaSeeder {
  /** Syncing replica URLs per generation and shard: in the router's write set, not its query set. */
  private readonly syncing = new Map<string, Map<string, Set<string>>>();
  private readonly statuses = new Map<string, SeedingStatus>();
  private job: Promise<void> | undefined;
  /** Replicas on their way out: already out of the router config, not yet stopped. */
  private readonly leaving = new Set<string>();
  private retryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastBlocked = "";

  constructor(
    private index: LocalIndex,
    private readonly io: ReplicaIo,
    private readonly log: Logger,
  ) {}

  update(index: LocalIndex): void {
    this.index = index;
    this.schedule(0);
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.job?.catch(() => undefined);
  }

  /** Replicas being seeded now (serve.json, `embedops serve`'s lines). */
  get seeding(): SeedingStatus[] {
    return [...this.statuses.values()];
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule(SEED_TICK_MS));
    }, ms);
    this.timer.unref?.();
  }

  private urlOf(generation: string, shard: string, replica: number): string | undefined {
    return this.io.running(generation, shard).find((r) => r.replica === replica)?.url;
  }

  private observe(generation: string): ShardObservation[] {
    return this.index.shards.map((shard) => {
      const syncing = this.syncingOf(generation, shard);
      const running = this.io.running(generation, shard);
      const slots = new Set([...Array(this.index.replicas).keys(), ...running.map((r) => r.replica)]);
      const replicas = [...slots].map((r) => {
        const url = running.find((x) => x.replica === r)?.url;
        const dir = this.io.replicaDir(generation, shard, r);
        return {
          replica: r,
          running: url !== undefined,
          serving: url !== undefined && !syncing.has(url) && !this.leaving.has(url),
          hasData: hasData(dir),
          marked: existsSync(markerPath(dir)),
        };
      });
      return { shard, replicas };
    });
  }

  private syncingOf(generation: string, shard: string): Set<string> {
    const byShard = this.syncing.get(generation) ?? new Map<string, Set<string>>();
    this.syncing.set(generation, byShard);
    const set = byShard.get(shard) ?? new Set<string>();
    byShard.set(shard, set);
    return set;
  }

  private async tick(): Promise<void> {
    if (this.job || Date.now() < this.retryAt) return;
    const { ref, moving } = this.io.active();
    if (moving) return;
    const actions = replicaActions(this.observe(ref.generation), this.index.replicas);
    const blocked = actions.filter((a) => a.kind === "blocked");
    const text = blocked.map((b) => ("why" in b ? b.why : "")).join("; ");
    if (text !== this.lastBlocked && text)
      this.log.warn("replicas: cannot seed", { index: this.index.name, why: text });
    this.lastBlocked = text;
    const stops = actions.filter((a) => a.kind === "stop");
    if (stops.length > 0) {
      await this.lower(ref, stops);
      return;
    }
    const seed = actions.find((a) => a.kind === "seed");
    if (seed?.kind !== "seed") return;
    const key = `${seed.shard}/${seed.replica}`;
    this.job = this.seed(ref, seed)
      .then(
        () => {
          this.statuses.delete(key);
        },
        (err: unknown) => {
          const message = (err as Error).message;
          this.set(key, { shard: seed.shard, replica: seed.replica, phase: "failed", error: message });
          this.log.warn("replicas: seeding failed; it starts again", {
            index: this.index.name,
            shard: seed.shard,
            replica: seed.replica,
            err: message,
          });
          this.retryAt = Date.now() + RETRY_AFTER_MS;
        },
      )
      .finally(() => {
        this.job = undefined;
        this.io.report(this.seeding);
      });
  }

  private set(key: string, s: SeedingStatus): void {
    const before = this.statuses.get(key);
    this.statuses.set(key, s);
    if (before?.phase !== s.phase) {
      this.io.say(`vi/${this.index.name}  ${describeSeeding(s)}`);
      this.log.info("replicas: seeding", { index: this.index.name, ...s });
    }
    this.io.report(this.seeding);
  }

  /** Pushes the router config: every running replica of the generation, syncing ones write-only. */
  private pushConfig(generation: string): void {
    const serving: string[][] = [];
    const syncing: string[][] = [];
    for (const shard of this.index.shards) {
      const sync = this.syncingOf(generation, shard);
      const s: string[] = [];
      const w: string[] = [];
      const running = [...this.io.running(generation, shard)].sort((x, y) => x.replica - y.replica);
      for (const { url } of running) if (!this.leaving.has(url)) (sync.has(url) ? w : s).push(url);
      serving.push(s);
      syncing.push(w);
    }
    this.io.setReplicas(generation, serving, syncing);
  }

  private async seed(ref: GenerationRef, a: Extract<ReplicaAction, { kind: "seed" }>): Promise<void> {
    const key = `${a.shard}/${a.replica}`;
    const { generation } = ref;
    const base = { shard: a.shard, replica: a.replica };
    const from = this.urlOf(generation, a.shard, a.from);
    if (!from) throw new Error(`replica ${a.from} of ${a.shard}, the seed's source, is not running`);
    const dir = this.io.replicaDir(generation, a.shard, a.replica);
    const staging = stagingPath(dir);
    this.set(key, { ...base, phase: "copying" });
    writeFileSync(markerPath(dir), JSON.stringify({ from, startedAt: new Date().toISOString() }));
    rmSync(dir, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
    const copy = await postJson(`${from}/v1/snapshot`, { dir: staging }, 30 * 60_000);
    const watermark = Number(copy.seq);
    mkdirSync(`${dir}/checkpoints`, { recursive: true });
    for (const name of readdirSync(staging)) renameSync(`${staging}/${name}`, `${dir}/${placeFile(name)}`);
    rmSync(staging, { recursive: true, force: true });

    this.set(key, { ...base, phase: "starting", watermark });
    const url = await this.io.startReplica(ref, a.shard, a.replica);
    const sync = this.syncingOf(generation, a.shard);
    sync.add(url);
    try {
      this.set(key, { ...base, phase: "joining", url, watermark });
      this.pushConfig(generation);
      await this.waitForRouter(a.shard, url, "syncing");

      let status = await postJson(`${url}/v1/sync`, { from, afterSeq: watermark }, 10_000);
      while (status.phase !== "done") {
        if (status.phase === "failed") throw new Error(`catch-up from ${from}: ${String(status.error)}`);
        if (status.phase === "idle")
          status = await postJson(`${url}/v1/sync`, { from, afterSeq: watermark }, 10_000);
        this.set(key, {
          ...base,
          phase: "syncing",
          url,
          watermark,
          syncedRows: Number(status.upserted ?? 0) + Number(status.deleted ?? 0),
          ...(typeof status.peerLastSeq === "number" ? { sourceSeq: status.peerLastSeq } : {}),
          ...(typeof status.readSeq === "number" ? { readSeq: status.readSeq } : {}),
        });
        await sleep(POLL_MS);
        status = await getJson(`${url}/v1/sync`);
      }
      sync.delete(url);
      this.pushConfig(generation);
      await this.waitForRouter(a.shard, url, "serving");
      rmSync(markerPath(dir), { force: true });
      const rows = Number(status.upserted ?? 0) + Number(status.deleted ?? 0);
      this.io.say(
        `vi/${this.index.name}  ${a.shard} replica ${a.replica} serves queries (seeded at seq ${watermark}, ${rows} rows caught up)`,
      );
      this.log.info("replicas: seeded; the router queries it", {
        index: this.index.name,
        shard: a.shard,
        replica: a.replica,
        url,
        watermark,
        caughtUpRows: rows,
      });
    } catch (err) {
      sync.delete(url);
      await this.io.stopReplica(generation, a.shard, a.replica);
      this.pushConfig(generation);
      throw err;
    }
  }

  /**
   * Until the router's /v1/stats shows `url` in shard `shard` as wanted and no write that started
   * under an older config still runs (such a write may reach only the replicas that config listed).
   */
  private async waitForRouter(
    shard: string,
    url: string,
    want: "syncing" | "serving" | "absent",
  ): Promise<void> {
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    let last = "no answer yet";
    while (Date.now() < deadline) {
      const router = this.io.routerUrl();
      if (router) {
        try {
          const stats = (await getJson(`${router}/v1/stats`)) as {
            olderWritesInFlight?: number;
            shards?: { name: string; replicas: { url: string; syncing?: boolean }[] }[];
          };
          const r = stats.shards?.find((s) => s.name === shard)?.replicas.find((x) => x.url === url);
          const seen = r === undefined ? "absent" : r.syncing ? "syncing" : "serving";
          const older = stats.olderWritesInFlight ?? 0;
          if (seen === want && older === 0) return;
          last = `the router lists the replica as ${seen}, ${older} write(s) from an older config in flight`;
        } catch (err) {
          last = (err as Error).message;
        }
      }
      await sleep(POLL_MS);
    }
    throw new Error(
      `the router did not list replica ${url} of ${shard} as ${want} within ${JOIN_TIMEOUT_MS / 1000} s (${last}); see the router's log`,
    );
  }

  /** spec.replicas went down: the extra replicas leave the router, stop, and their data is removed. */
  private async lower(ref: GenerationRef, stops: readonly ReplicaAction[]): Promise<void> {
    const { generation } = ref;
    const leaving = stops.flatMap((s) => {
      const url = this.urlOf(generation, s.shard, s.replica);
      return url ? [{ shard: s.shard, replica: s.replica, url }] : [];
    });
    for (const s of leaving) this.leaving.add(s.url);
    this.pushConfig(generation);
    try {
      for (const s of leaving) await this.waitForRouter(s.shard, s.url, "absent");
    } catch (err) {
      // Stopping anyway: the router marks a stopped replica down and asks another.
      this.log.warn("replicas: the router still lists a leaving replica", { err: (err as Error).message });
    }
    for (const s of leaving) {
      await this.io.stopReplica(generation, s.shard, s.replica);
      this.leaving.delete(s.url);
      this.syncingOf(generation, s.shard).delete(s.url);
      const dir = this.io.replicaDir(generation, s.shard, s.replica);
      rmSync(dir, { recursive: true, force: true });
      rmSync(markerPath(dir), { force: true });
      this.io.say(
        `vi/${this.index.name}  ${s.shard} replica ${s.replica} stopped (spec.replicas is ${this.index.replicas}); its data was removed`,
      );
    }
  }
}
