// The replicas of one shard as the router sees them: live or down, requests in flight, and the
// shard's recent latencies. Reads go to the least-loaded live replica (round-robin among equals), so
// a replica that slows down gets less traffic before it is ever marked down.
import { LatencyWindow } from "./latency-window.js";
import { type LaggingState, recordMiss } from "./replica-repair.js";

export interface ReplicaState {
  readonly url: string;
  live: boolean;
  inFlight: number;
  /** Why the replica was last marked down; shown in /v1/stats and in errors. */
  lastError: string | undefined;
  /** Being seeded: written to (and counted for the quorum), never asked a query. */
  readonly syncing: boolean;
  /** Missed a write another replica committed: written to, queried only if no in-sync replica is live. */
  lagging: LaggingState | undefined;
  /** Its /readyz says a catch-up runs on it (whichever router or operator started it): same as lagging. */
  catchingUp: boolean;
}

/** Lagging or catching up: may lack acknowledged writes. */
export function isStale(r: ReplicaState): boolean {
  return r.lagging !== undefined || r.catchingUp;
}

/**
 * Index of the replica to ask next: live, not in `exclude`, fewest requests in flight; ties go to the
 * first one at or after `cursor` so equal replicas share the load in turn. -1 when none qualifies.
 * A stale (lagging) replica is asked only while no in-sync one is live: a shard that answers from a
 * replica missing some writes beats a shard that does not answer.
 */
export function pickReplica(
  replicas: readonly ReplicaState[],
  exclude: ReadonlySet<string>,
  cursor: number,
): number {
  let best = -1;
  const n = replicas.length;
  let anyInSync = false;
  for (const r of replicas) if (r.live && !r.syncing && !isStale(r)) anyInSync = true;
  for (let step = 0; step < n; step++) {
    const i = (cursor + step) % n;
    const r = replicas[i]!;
    if (!r.live || r.syncing || exclude.has(r.url)) continue;
    if (anyInSync && isStale(r)) continue;
    if (best === -1 || r.inFlight < replicas[best]!.inFlight) best = i;
  }
  return best;
}

export class ShardReplicas {
  readonly replicas: ReplicaState[];
  readonly latency: LatencyWindow;
  private cursor = 0;
  /** The set that replaced this one at a config reload: a write still in flight reports its misses there. */
  private successor: ShardReplicas | undefined;

  constructor(
    readonly name: string,
    urls: readonly string[],
    /** State carried over from the previous config, so a reload does not forget what it learned. */
    previous?: ShardReplicas,
    syncing: readonly string[] = [],
  ) {
    this.replicas = urls.map((url) => {
      const old = previous?.replicas.find((r) => r.url === url);
      // Unknown replicas start live: the first request or probe decides, instead of refusing traffic
      // for a probe interval after every start and reload.
      return {
        url,
        live: old?.live ?? true,
        inFlight: 0,
        lastError: old?.lastError,
        syncing: syncing.includes(url),
        lagging: old?.lagging,
        catchingUp: old?.catchingUp ?? false,
      };
    });
    this.latency = previous?.latency ?? new LatencyWindow(128);
    if (previous) previous.successor = this;
  }

  pick(exclude: ReadonlySet<string>): ReplicaState | undefined {
    const i = pickReplica(this.replicas, exclude, this.cursor);
    if (i === -1) return undefined;
    this.cursor = (i + 1) % this.replicas.length;
    return this.replicas[i];
  }

  /** Live replicas that answer queries (a syncing one does not). */
  liveCount(): number {
    let n = 0;
    for (const r of this.replicas) if (r.live && !r.syncing) n++;
    return n;
  }

  markDown(url: string, reason: string): void {
    const r = this.replicas.find((x) => x.url === url);
    if (r) {
      r.live = false;
      r.lastError = reason;
    }
  }

  markUp(url: string): void {
    const r = this.replicas.find((x) => x.url === url);
    if (r) r.live = true;
  }

  /**
   * `url` failed a write that the replicas in `committed` acknowledged (URL → seq before the write).
   * Answers true when this made it lagging (it was in sync before).
   */
  recordMiss(url: string, committed: ReadonlyMap<string, number>, now = Date.now()): boolean {
    if (this.successor) return this.successor.recordMiss(url, committed, now);
    const r = this.replicas.find((x) => x.url === url);
    if (!r || committed.size === 0) return false;
    const was = r.lagging;
    r.lagging = recordMiss(r.lagging, now, committed);
    return was === undefined;
  }

  laggingCount(): number {
    let n = 0;
    for (const r of this.replicas) if (r.lagging) n++;
    return n;
  }
}
