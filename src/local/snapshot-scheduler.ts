// serve's spec.snapshot: each index with a schedule gets a snapshot of its active generation when the
// schedule is due (src/snapshot/schedule.ts), named <index>-<YYYYMMDD>-<HHMMSS> in UTC, then
// retention (src/snapshot/retention.ts) over the snapshots the schedule made: the newest `retain`
// complete ones stay, older complete ones go, incomplete ones (an interrupted run) go after a day.
// Snapshots made by hand (embedops snapshot create) are never deleted: their names do not match.
//
// Stores under serve: store.pvc is the directory <data-dir>/snapshots/<claimName>/ (created on the
// first run); store.s3 is the bucket at its endpoint with credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY in serve's environment (store.s3.secretRef is the cluster's; serve has no
// Secrets). The last run is kept in memory from serve's start: a restart does not replay missed slots.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotPolicy } from "../api/v1alpha1/snapshot-policy.js";
import { loadRouterConfig } from "../router/config.js";
import { listSnapshots } from "../snapshot/catalog.js";
import { createSnapshot } from "../snapshot/create.js";
import { snapshotRoot } from "../snapshot/layout.js";
import { PathStore } from "../snapshot/path-store.js";
import { type RetentionCandidate, retentionDecision } from "../snapshot/retention.js";
import { S3Store } from "../snapshot/s3-store.js";
import { scheduleDecision } from "../snapshot/schedule.js";
import type { SnapshotStore } from "../snapshot/store.js";
import type { Logger } from "../util/log.js";
import type { LocalIndex } from "./plan.js";
import type { ServeMetrics } from "./serve-metrics.js";

/** Test-only: slots every N seconds instead of each index's schedule (dataplane tests cannot wait minutes). */
export const TEST_SNAPSHOT_EVERY_SECONDS_ENV = "EMBEDOPS_TEST_SNAPSHOT_EVERY_SECONDS";

/** Longest sleep between looks, so a reloaded file's new schedule is picked up within it. */
const MAX_SLEEP_MS = 60_000;

/** What an index is served as: its active generation's fingerprint and replica URLs per shard. */
export interface ActiveGeneration {
  readonly generation: string;
  readonly fingerprint: string;
  readonly shards: readonly (readonly string[])[];
}

export interface SnapshotRun {
  readonly index: string;
  readonly snapshot: string;
  readonly result: "Succeeded" | "Failed";
  readonly vectors?: number;
  readonly bytes?: number;
  readonly deleted: readonly string[];
  readonly error?: string;
}

export interface SnapshotSchedulerIo {
  now(): Date;
  /** The served file's indexes (a reload changes them). */
  indexes(): readonly LocalIndex[];
  active(index: string): Promise<ActiveGeneration>;
  openStore(index: string, store: SnapshotPolicy["store"]): Promise<{ store: SnapshotStore; prefix: string }>;
  stagingDir: string;
  say(line: string): void;
  ran(run: SnapshotRun): void;
}

/** <index>-YYYYMMDD-HHMMSS in UTC: a Kubernetes name that sorts by time. */
export function scheduledSnapshotName(index: string, at: Date): string {
  const iso = at.toISOString();
  return `${index}-${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}`;
}

/** The time in a name scheduledSnapshotName made for `index`; undefined for any other name. */
export function scheduledSnapshotTime(index: string, name: string): Date | undefined {
  if (!name.startsWith(`${index}-`)) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(name.slice(index.length + 1));
  if (!m) return undefined;
  const at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** Retention's view of a store listing: complete = Succeeded at its manifest's time, incomplete = Failed at its name's. */
export function retentionCandidates(
  index: string,
  entries: readonly { snapshot: string; complete: boolean; manifest?: { createdAt: string } }[],
): RetentionCandidate[] {
  return entries.flatMap((e) => {
    const named = scheduledSnapshotTime(index, e.snapshot);
    if (named === undefined) return [];
    return [
      e.complete
        ? { name: e.snapshot, phase: "Succeeded", completedAt: e.manifest?.createdAt ?? named.toISOString() }
        : { name: e.snapshot, phase: "Failed", createdAt: named.toISOString() },
    ];
  });
}

export class SnapshotScheduler {
  private readonly lastRun = new Map<string, Date>();
  private readonly started: Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly everySeconds: number | undefined;

  constructor(
    private readonly io: SnapshotSchedulerIo,
    private readonly log: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.started = io.now();
    const every = env[TEST_SNAPSHOT_EVERY_SECONDS_ENV];
    this.everySeconds = every === undefined || every === "" ? undefined : Number(every);
  }

  start(): void {
    this.schedule(0);
  }

  /** Waits for a running snapshot to finish (a half-uploaded one would only be cleaned up a day later). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, ms);
  }

  /** One look at every index: run the due ones, one at a time, then sleep until the next slot. */
  async tick(): Promise<void> {
    let sleep = MAX_SLEEP_MS;
    try {
      sleep = await this.pass();
    } finally {
      this.schedule(Math.max(0, sleep));
    }
  }

  /** Runs the due indexes; returns how long until the next slot of any. */
  private async pass(): Promise<number> {
    let sleep = MAX_SLEEP_MS;
    for (const index of this.io.indexes()) {
      const policy = index.snapshot;
      if (this.stopped) return sleep;
      if (policy?.schedule === undefined) continue;
      let decision: ReturnType<typeof scheduleDecision>;
      try {
        decision = scheduleDecision({
          schedule: policy.schedule,
          timeZone: policy.timeZone,
          lastRun: this.lastRun.get(index.name) ?? this.started,
          now: this.io.now(),
          everySeconds: this.everySeconds,
        });
      } catch (err) {
        this.log.error("snapshot: schedule not usable", { index: index.name, error: (err as Error).message });
        continue;
      }
      if (decision.due) {
        this.lastRun.set(index.name, this.io.now());
        await this.runOnce(index.name, policy);
      }
      const next = scheduleDecision({
        schedule: policy.schedule,
        timeZone: policy.timeZone,
        lastRun: this.lastRun.get(index.name) ?? this.started,
        now: this.io.now(),
        everySeconds: this.everySeconds,
      });
      sleep = Math.min(sleep, next.due ? 0 : next.next.getTime() - this.io.now().getTime());
    }
    return sleep;
  }

  /** One snapshot and the retention pass after it; never throws (a failed run is logged and counted). */
  async runOnce(index: string, policy: SnapshotPolicy): Promise<SnapshotRun> {
    const startedAt = this.io.now();
    const snapshot = scheduledSnapshotName(index, startedAt);
    let run: SnapshotRun;
    try {
      const { store, prefix } = await this.io.openStore(index, policy.store);
      let made: { vectors: number; bytes: number; location: string } | undefined;
      let error: string | undefined;
      try {
        const active = await this.io.active(index);
        const created = await createSnapshot({
          store,
          prefix,
          index,
          snapshot,
          generation: active.generation,
          fingerprint: active.fingerprint,
          shards: active.shards,
          // A path store stages on its own filesystem, so the copy is renamed in rather than copied.
          stagingDir: store.stagingDir ?? this.io.stagingDir,
          log: this.log,
          now: () => this.io.now(),
        });
        made = {
          vectors: created.manifest.shards.reduce((n, s) => n + s.vectors, 0),
          bytes: created.bytes,
          location: `${store.location}${created.root}`,
        };
      } catch (err) {
        error = (err as Error).message;
      }
      // Retention runs after a failed snapshot too: it only ever deletes beyond `retain` complete ones.
      const entries = await listSnapshots(store, prefix, index);
      const deleted = retentionDecision(
        retentionCandidates(index, entries),
        policy.retain,
        this.io.now().getTime(),
      );
      for (const name of deleted) await store.deletePrefix(snapshotRoot(prefix, index, name));
      run = {
        index,
        snapshot,
        result: made ? "Succeeded" : "Failed",
        deleted,
        ...(made ? { vectors: made.vectors, bytes: made.bytes } : {}),
        ...(error !== undefined ? { error } : {}),
      };
      if (made)
        this.io.say(
          `vi/${index}  snapshot ${snapshot}: ${made.vectors} vectors, ${(made.bytes / 1e6).toFixed(1)} MB at ` +
            `${made.location}${deleted.length > 0 ? `; retention deleted ${deleted.join(", ")}` : ""}`,
        );
    } catch (err) {
      run = { index, snapshot, result: "Failed", deleted: [], error: (err as Error).message };
    }
    const ms = this.io.now().getTime() - startedAt.getTime();
    if (run.result === "Succeeded") this.log.info("snapshot: scheduled run", { ...run, ms });
    else {
      this.log.error("snapshot: scheduled run failed", { ...run, ms });
      this.io.say(`vi/${index}  snapshot ${snapshot} failed: ${run.error}`);
    }
    this.io.ran(run);
    return run;
  }
}

/** The index's active generation as its router serves it: the router config serve writes. */
export async function activeFromRouterConfig(dataDir: string, index: string): Promise<ActiveGeneration> {
  const { config } = await loadRouterConfig(join(dataDir, "indexes", index, "router.json"));
  const g = config.generation;
  // A replica being seeded (syncing) may not hold every document yet: never a snapshot's source.
  const serving = (s: (typeof g.shards)[number]) => s.replicas.filter((u) => !s.syncing?.includes(u));
  return { generation: g.name, fingerprint: g.fingerprint, shards: g.shards.map(serving) };
}

/** store.pvc is <data-dir>/snapshots/<claimName>/ under serve; store.s3 takes its credentials from the environment. */
export async function openServeStore(
  dataDir: string,
  index: string,
  store: SnapshotPolicy["store"],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ store: SnapshotStore; prefix: string }> {
  if (store.pvc) {
    const dir = join(dataDir, "snapshots", store.pvc.claimName);
    await mkdir(dir, { recursive: true });
    return { store: new PathStore(dir), prefix: "" };
  }
  const s3 = store.s3;
  if (!s3)
    throw new Error(`VectorIndex "${index}": spec.snapshot.store sets neither pvc nor s3; set exactly one`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new Error(
      `VectorIndex "${index}": spec.snapshot.store.s3 needs credentials under embedops serve: set ` +
        `AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in serve's environment (secretRef is read only in a cluster)`,
    );
  const region = s3.region ?? env.AWS_REGION;
  return {
    store: new S3Store({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      credentials: { accessKeyId, secretAccessKey },
      ...(region ? { region } : {}),
    }),
    prefix: s3.prefix,
  };
}

/** The scheduler's I/O under embedops serve. */
export function serveSnapshotIo(
  dataDir: string,
  indexes: () => readonly LocalIndex[],
  say: (line: string) => void,
  metrics: ServeMetrics,
): SnapshotSchedulerIo {
  return {
    now: () => new Date(),
    indexes,
    active: (index) => activeFromRouterConfig(dataDir, index),
    openStore: (index, store) => openServeStore(dataDir, index, store),
    stagingDir: join(dataDir, "snapshot-staging"),
    say,
    ran: (run) => metrics.snapshotsTotal.inc({ index: run.index, result: run.result }),
  };
}
