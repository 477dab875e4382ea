// Replica seeding in a cluster, the pure part: when spec.replicas goes up, the new pods of each shard
// StatefulSet start on a copy of replica 0 (the `seed` init container, `embedops snapshot
// seed-replica`) and must not answer queries until they also hold the writes made after that copy.
// Per reconcile, from what status recorded (how many replicas served, which new ones are where) and
// what replica-io.ts observed of the new pods and the routers, this decides:
//   - which replicas the router config lists as `syncing` (written to, never queried);
//   - which replica gets POST /v1/sync {from: replica 0, afterSeq: its seed watermark} now: only once
//     it is ready, reports its watermark, and every router lists it as syncing with no write from an
//     older config still running (such a write may have missed it), as serve's seeder checks;
//   - when it is Synced (its catch-up is done): then it leaves `syncing` and serves queries.
// The same protocol as serve's (src/local/replica-seeder.ts); the HTTP is in replica-io.ts.

export type ReplicaSyncPhase = "Seeding" | "Syncing" | "Synced";

export interface ReplicaSyncEntry {
  readonly shard: string;
  readonly replica: number;
  readonly phase: ReplicaSyncPhase;
  /** The peer seq its seed copy covers (the init container's watermark). */
  readonly seededAtSeq?: number;
  /** Rows its catch-up copied (upserts and deletes). */
  readonly rowsCaughtUp?: number;
  /** Why it waits, or what failed last (it is retried). */
  readonly message?: string;
}

/** status.replicaSync: the active generation's replica count that serves, and the new replicas. */
export interface ReplicaSyncStatus {
  readonly generation: string;
  /** Replicas 0..servingReplicas-1 of every shard serve queries. */
  readonly servingReplicas: number;
  /** Set once replicas were added in this generation (every shard StatefulSet carries the seed init container). */
  readonly seeded?: boolean;
  readonly replicas: readonly ReplicaSyncEntry[];
}

/** What replica-io.ts saw of one new replica (absent fields: no answer). */
export interface ReplicaObservation {
  readonly ready: boolean;
  /** From the replica's meta (GET /v1/meta/seeded-from): the seed copy's seq. */
  readonly seededAtSeq?: number;
  /** GET /v1/sync on the replica. */
  readonly sync?: {
    readonly phase: "idle" | "running" | "done" | "failed";
    readonly afterSeq?: number;
    readonly rows: number;
    readonly error?: string;
  };
  /** Every router lists it as syncing and runs no write started under an older config. */
  readonly routersWriteToIt: boolean;
  /** Why not, when routersWriteToIt is false. */
  readonly routersWhy?: string;
}

export interface ReplicaSeedingInput {
  readonly generation: string;
  readonly shards: readonly string[];
  /** spec.replicas */
  readonly desired: number;
  readonly previous?: ReplicaSyncStatus | undefined;
  /**
   * The replica count the generation's shard StatefulSets run (the fewest of them; undefined: none
   * exist yet). Read when status records another generation: see startingStatus.
   */
  readonly running?: number | undefined;
  /** Keyed by replicaKey(shard, replica); only the replicas `pending` returned last time are observed. */
  readonly observed: ReadonlyMap<string, ReplicaObservation>;
}

export interface StartSync {
  readonly shard: string;
  readonly replica: number;
  /** The replica that serves the copy and the rows after it: replica 0 of the shard. */
  readonly fromReplica: number;
  readonly afterSeq: number;
}

export interface ReplicaSeedingStep {
  readonly status: ReplicaSyncStatus;
  /** Per shard, the replicas the router config lists as syncing. */
  readonly syncing: ReadonlyMap<string, readonly number[]>;
  readonly startSync: readonly StartSync[];
  /** A new replica is not Synced yet: reconcile again soon. */
  readonly requeue: boolean;
}

export const replicaKey = (shard: string, replica: number) => `${shard}/${replica}`;

/** The replicas to observe this reconcile: the new ones that are not Synced. */
export function replicasToObserve(status: ReplicaSyncStatus | undefined): ReplicaSyncEntry[] {
  return (status?.replicas ?? []).filter((r) => r.phase !== "Synced");
}

/**
 * The status a step starts from: the recorded one when it is this generation's. A generation status
 * does not record yet (a new index, or N+1 just promoted) starts from its StatefulSets: when they run
 * fewer replicas than desired (a raise that waited for the generation move, replica-hold.ts), those
 * serve and the rest are new; otherwise none (every replica starts together: empty, restored or
 * backfilled).
 */
export function startingStatus(
  previous: ReplicaSyncStatus | undefined,
  generation: string,
  desired: number,
  running: number | undefined,
): ReplicaSyncStatus | undefined {
  if (previous?.generation === generation) return previous;
  if (running !== undefined && running >= 1 && running < desired)
    return { generation, servingReplicas: running, replicas: [] };
  return undefined;
}

export function replicaSeedingStep(input: ReplicaSeedingInput): ReplicaSeedingStep {
  const { generation, shards, desired } = input;
  const prev = startingStatus(input.previous, generation, desired, input.running);
  if (!prev) return done({ generation, servingReplicas: desired, replicas: [] });
  if (desired <= prev.servingReplicas)
    return done({
      ...prev,
      servingReplicas: desired,
      replicas: prev.replicas.filter((r) => r.replica < desired),
    });

  const byKey = new Map(prev.replicas.map((r) => [replicaKey(r.shard, r.replica), r]));
  const replicas: ReplicaSyncEntry[] = [];
  const startSync: StartSync[] = [];
  for (const shard of shards)
    for (let replica = 0; replica < desired; replica++) {
      const before = byKey.get(replicaKey(shard, replica));
      if (replica < prev.servingReplicas) {
        if (before) replicas.push(before);
        continue;
      }
      if (before?.phase === "Synced") {
        replicas.push(before);
        continue;
      }
      const next = advance(shard, replica, input.observed.get(replicaKey(shard, replica)));
      replicas.push(next.entry);
      if (next.start) startSync.push(next.start);
    }
  const pending = replicas.filter((r) => r.replica >= prev.servingReplicas && r.phase !== "Synced");
  const status: ReplicaSyncStatus = {
    generation,
    servingReplicas: pending.length === 0 ? desired : prev.servingReplicas,
    seeded: true,
    replicas,
  };
  const syncing = new Map<string, number[]>();
  for (const r of pending) syncing.set(r.shard, [...(syncing.get(r.shard) ?? []), r.replica]);
  return { status, syncing, startSync, requeue: pending.length > 0 };
}

function done(status: ReplicaSyncStatus): ReplicaSeedingStep {
  return { status, syncing: new Map(), startSync: [], requeue: false };
}

function advance(
  shard: string,
  replica: number,
  o: ReplicaObservation | undefined,
): { entry: ReplicaSyncEntry; start?: StartSync } {
  const base = { shard, replica };
  if (!o?.ready)
    return { entry: { ...base, phase: "Seeding", message: "waiting for the pod to be seeded and ready" } };
  const seededAtSeq = o.seededAtSeq;
  if (seededAtSeq === undefined)
    return {
      entry: {
        ...base,
        phase: "Seeding",
        message:
          "the replica reports no seed watermark (GET /v1/meta/seeded-from); its seed init container did not run",
      },
    };
  const at = { ...base, seededAtSeq };
  const sync = o.sync;
  if (sync?.phase === "done") return { entry: { ...at, phase: "Synced", rowsCaughtUp: sync.rows } };
  if (sync?.phase === "running") return { entry: { ...at, phase: "Syncing", rowsCaughtUp: sync.rows } };
  if (!o.routersWriteToIt)
    return {
      entry: {
        ...at,
        phase: "Syncing",
        message: `waiting for the routers to write to it: ${o.routersWhy ?? "no router answered"}`,
      },
    };
  const start = { shard, replica, fromReplica: 0, afterSeq: seededAtSeq };
  return {
    entry: {
      ...at,
      phase: "Syncing",
      rowsCaughtUp: 0,
      ...(sync?.phase === "failed"
        ? { message: `the last catch-up failed (${sync.error ?? "no reason"}); started again` }
        : {}),
    },
    start,
  };
}
