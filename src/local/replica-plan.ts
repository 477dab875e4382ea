// Pure decisions of serve's replica seeding (replica-seeder.ts runs them): which replicas of a
// generation's shards start at once, which are seeded from a serving peer first, and which stop
// because spec.replicas went down. No processes, no files.

/** One replica slot of a shard as serve sees it on disk and among its children. */
export interface ReplicaObservation {
  readonly replica: number;
  /** Its process runs (serving, or syncing). */
  readonly running: boolean;
  /** Running and in the router's query set. */
  readonly serving: boolean;
  /** Its data dir holds a database. */
  readonly hasData: boolean;
  /** A seeding began and did not finish (the marker beside its data dir). */
  readonly marked: boolean;
}

export interface ShardObservation {
  readonly shard: string;
  readonly replicas: readonly ReplicaObservation[];
}

export type ReplicaAction =
  | { readonly kind: "seed"; readonly shard: string; readonly replica: number; readonly from: number }
  | { readonly kind: "stop"; readonly shard: string; readonly replica: number }
  | { readonly kind: "blocked"; readonly shard: string; readonly replica: number; readonly why: string };

/**
 * At start-up, before any shard runs: the replicas that must be seeded instead of started as they
 * are. A replica is new when its data dir is empty while a peer of the same shard holds data (the
 * peer may have served for a long time: an empty start would answer queries with nothing), and a
 * replica whose seeding was cut short (marked) is seeded again from scratch. When no replica of a
 * shard has data (a new index), all start empty together.
 */
export function replicasToSeedAtStart(shards: readonly ShardObservation[], desired: number): ReplicaAction[] {
  const out: ReplicaAction[] = [];
  for (const s of shards) {
    const slots = s.replicas.filter((r) => r.replica < desired);
    const sources = slots.filter((r) => r.hasData && !r.marked);
    for (const r of slots) {
      if (!r.marked && (r.hasData || sources.length === 0)) continue;
      const from = sources[0];
      if (from) out.push({ kind: "seed", shard: s.shard, replica: r.replica, from: from.replica });
      else
        out.push({
          kind: "blocked",
          shard: s.shard,
          replica: r.replica,
          why: `no replica of shard ${s.shard} holds data to seed replica ${r.replica} from (its last seeding was cut short); restore the index from a snapshot`,
        });
    }
  }
  return out;
}

/**
 * While serving (and no seeding runs): replicas below `desired` that do not run are seeded from the
 * first serving replica of their shard; running replicas at or above `desired` stop.
 */
export function replicaActions(shards: readonly ShardObservation[], desired: number): ReplicaAction[] {
  const out: ReplicaAction[] = [];
  for (const s of shards) {
    const source = s.replicas.find((r) => r.serving && r.replica < desired);
    const slots = new Map(s.replicas.map((r) => [r.replica, r]));
    const top = Math.max(desired, ...s.replicas.map((r) => r.replica + 1));
    for (let i = 0; i < top; i++) {
      const r = slots.get(i);
      if (i >= desired) {
        if (r?.running) out.push({ kind: "stop", shard: s.shard, replica: i });
        continue;
      }
      if (r?.running) continue;
      if (source) out.push({ kind: "seed", shard: s.shard, replica: i, from: source.replica });
      else
        out.push({
          kind: "blocked",
          shard: s.shard,
          replica: i,
          why: `shard ${s.shard} has no serving replica to seed replica ${i} from; it is seeded once one serves`,
        });
    }
  }
  return out;
}

/** Where seeding is: shown in serve.json and in serve's lines. */
export interface SeedingStatus {
  readonly shard: string;
  readonly replica: number;
  readonly phase: "copying" | "starting" | "joining" | "syncing" | "failed";
  readonly url?: string;
  /** The seed copy's watermark (the source's seq). */
  readonly watermark?: number;
  /** Rows copied by the catch-up, and the source's newest seq it has seen. */
  readonly syncedRows?: number;
  readonly sourceSeq?: number;
  readonly readSeq?: number;
  readonly error?: string;
}

/** One line of progress, e.g. "shard-0 replica 1 syncing: peer seq 1840/2210, 370 rows copied". */
export function describeSeeding(s: SeedingStatus): string {
  const head = `${s.shard} replica ${s.replica} ${s.phase}`;
  if (s.phase === "syncing" && s.sourceSeq !== undefined)
    return `${head}: peer seq ${s.readSeq ?? s.watermark ?? 0}/${s.sourceSeq}, ${s.syncedRows ?? 0} rows copied`;
  if (s.phase === "failed") return `${head}: ${s.error ?? "unknown error"} (retried)`;
  return s.watermark !== undefined ? `${head} (seed watermark ${s.watermark})` : head;
}
