// Repair of a lagging replica: one that failed a write (down, timed out, 503) that another replica
// of its shard committed. It keeps taking writes but no queries until a catch-up from an in-sync peer
// (the shard's POST /v1/sync {from, afterSeq}, peer-sync.ts) re-read every row the peer wrote after
// the first missed write, and no write was missed since that catch-up began. Pure decisions only;
// generation-runtime.ts does the HTTP and feeds the answers back.

/** Seconds-scale retry of a failed catch-up: 1 s, 2 s, 4 s ... capped at 30 s. */
export const REPAIR_BACKOFF_MS = { first: 1000, max: 30_000 };

export function repairBackoffMs(attempts: number): number {
  return Math.min(REPAIR_BACKOFF_MS.max, REPAIR_BACKOFF_MS.first * 2 ** Math.max(0, attempts - 1));
}

export type RepairState =
  /** Nothing of ours runs on the replica; start a catch-up once `retryAt` passed and a source exists. */
  | { phase: "waiting"; attempts: number; retryAt: number; reason: string }
  /** A catch-up runs on the replica (ours, or another router's / the operator's when `own` is false). */
  | {
      phase: "catching-up";
      from: string;
      afterSeq: number;
      joinedAtSeq: number | undefined;
      /** `misses` when the catch-up was started or first seen: a later miss is not covered by it. */
      missesAtStart: number;
      /** Its source and afterSeq re-read every row this replica missed (see covers()). */
      covers: boolean;
      own: boolean;
      attempts: number;
    };

export interface LaggingState {
  /** When the first missed write was seen (ms since the epoch). */
  readonly since: number;
  /** Missed writes so far. */
  misses: number;
  /**
   * Per peer that committed every missed write: the peer's seq before the first of them (exact for
   * upserts, a lower bound for deletes). A catch-up from that peer with afterSeq <= mark re-reads them.
   */
  marks: Map<string, number>;
  repair: RepairState;
}

/**
 * A replica missed a write that the peers in `committed` acknowledged (peer URL → its seq before that
 * write). Marks keep only peers that committed every miss, each at its lowest seq: a peer that missed
 * one of them (or got it later by its own repair) cannot be read from its mark.
 */
export function recordMiss(
  state: LaggingState | undefined,
  now: number,
  committed: ReadonlyMap<string, number>,
): LaggingState {
  if (!state) {
    return {
      since: now,
      misses: 1,
      marks: new Map(committed),
      repair: { phase: "waiting", attempts: 0, retryAt: 0, reason: "missed a write" },
    };
  }
  const marks = new Map<string, number>();
  for (const [peer, seq] of state.marks) {
    const now2 = committed.get(peer);
    if (now2 !== undefined) marks.set(peer, Math.min(seq, now2));
  }
  state.misses++;
  state.marks = marks;
  return state;
}

/** A replica of the same shard as the router sees it. */
export interface PeerView {
  url: string;
  live: boolean;
  /** Listed syncing in the router config: being seeded. */
  syncing: boolean;
  /** Itself lagging in this router's view. */
  lagging: boolean;
  /** Its /readyz says a catch-up runs on it. */
  catchingUp: boolean;
}

/** What the replica's GET/POST /v1/sync answered (peer-sync.ts SyncStatus). */
export interface SyncView {
  phase: "idle" | "running" | "done" | "failed";
  from?: string | undefined;
  afterSeq?: number | undefined;
  joinedAtSeq?: number | undefined;
  upserted: number;
  deleted: number;
  skipped: number;
  error?: string | undefined;
}

const bare = (url: string) => url.replace(/\/+$/, "");

/** A peer in sync by everything this router saw: a safe source for a catch-up. */
function inSync(p: PeerView): boolean {
  return p.live && !p.syncing && !p.lagging && !p.catchingUp;
}

/**
 * The catch-up to start: from the first in-sync peer with a mark (re-reads its rows after that mark;
 * seqs are per replica, so marks of different peers do not compare), else from an in-sync peer with
 * afterSeq 0 (it got every miss, e.g. by its own repair: re-read all its rows).
 */
export function chooseSource(
  lag: LaggingState,
  peers: readonly PeerView[],
): { from: string; afterSeq: number } | undefined {
  const candidates = peers.filter(inSync);
  for (const p of candidates) {
    const mark = lag.marks.get(p.url);
    if (mark !== undefined) return { from: p.url, afterSeq: mark };
  }
  const any = candidates[0];
  return any ? { from: any.url, afterSeq: 0 } : undefined;
}

/** A catch-up from `from` after `afterSeq` re-reads every row this replica missed (that it knows of). */
export function covers(
  lag: LaggingState,
  run: { from?: string | undefined; afterSeq?: number | undefined },
  peers: readonly PeerView[],
): boolean {
  if (run.from === undefined || run.afterSeq === undefined) return false;
  const from = bare(run.from);
  const peer = peers.find((p) => bare(p.url) === from);
  if (!peer || peer.lagging || peer.syncing) return false;
  const mark = lag.marks.get(peer.url);
  return run.afterSeq <= (mark ?? 0);
}

export type RepairStep =
  | { kind: "wait"; reason: string }
  | { kind: "start"; from: string; afterSeq: number }
  | { kind: "poll" };

/** What to do for a lagging replica this tick, before any I/O. */
export function nextRepairStep(
  lag: LaggingState,
  replica: { live: boolean; syncing: boolean },
  peers: readonly PeerView[],
  now: number,
): RepairStep {
  if (replica.syncing)
    return { kind: "wait", reason: "listed syncing in the router config: its seeding catch-up runs first" };
  if (!replica.live) return { kind: "wait", reason: "replica is down" };
  const r = lag.repair;
  if (r.phase === "catching-up") return { kind: "poll" };
  if (now < r.retryAt) return { kind: "wait", reason: r.reason };
  const source = chooseSource(lag, peers);
  if (!source)
    return {
      kind: "wait",
      reason: "no live in-sync peer to copy from (every other replica is down, syncing or lagging)",
    };
  return { kind: "start", ...source };
}

export type RepairOutcome = "repaired" | "failed" | "restarted";

export interface RepairResult {
  /** The next repair state; undefined when the replica is in sync again (drop its lagging state). */
  repair: RepairState | undefined;
  outcome?: RepairOutcome;
  /** Why, for the log line of a failed or restarted catch-up. */
  reason?: string;
}

const sameRun = (
  a: { from: string; afterSeq: number; joinedAtSeq: number | undefined },
  s: SyncView,
): boolean =>
  s.from !== undefined &&
  bare(s.from) === bare(a.from) &&
  s.afterSeq === a.afterSeq &&
  s.joinedAtSeq === a.joinedAtSeq;

function retry(attempts: number, now: number, reason: string, outcome: RepairOutcome): RepairResult {
  const next = outcome === "failed" ? attempts + 1 : attempts;
  return {
    repair: {
      phase: "waiting",
      attempts: next,
      retryAt: outcome === "failed" ? now + repairBackoffMs(next) : now,
      reason,
    },
    outcome,
    reason,
  };
}

function seen(
  lag: LaggingState,
  s: SyncView,
  peers: readonly PeerView[],
  own: boolean,
  missesAtStart: number,
  attempts: number,
): RepairState {
  return {
    phase: "catching-up",
    from: s.from ?? "",
    afterSeq: s.afterSeq ?? 0,
    joinedAtSeq: s.joinedAtSeq,
    missesAtStart,
    covers: covers(lag, s, peers),
    own,
    attempts,
  };
}

/**
 * The replica answered POST /v1/sync (`status`, or `error` when the call failed). `missesBefore` is
 * `lag.misses` read just before the call was sent. A catch-up already running (another router's)
 * is answered instead of ours and is followed the same way: it counts only if it covers our marks.
 */
export function afterStart(
  lag: LaggingState,
  asked: { from: string; afterSeq: number },
  answer: SyncView | { callFailed: string },
  missesBefore: number,
  peers: readonly PeerView[],
  now: number,
): RepairResult {
  const attempts = lag.repair.attempts;
  if ("callFailed" in answer)
    return retry(attempts, now, `POST /v1/sync failed: ${answer.callFailed}`, "failed");
  if (answer.phase !== "running")
    return retry(attempts, now, `POST /v1/sync answered phase ${answer.phase}, not running`, "failed");
  const own =
    answer.from !== undefined && bare(answer.from) === bare(asked.from) && answer.afterSeq === asked.afterSeq;
  return { repair: seen(lag, answer, peers, own, missesBefore, attempts) };
}

/** The replica answered GET /v1/sync during a catch-up (or `error` when it did not answer). */
export function afterPoll(
  lag: LaggingState,
  answer: SyncView | { callFailed: string },
  peers: readonly PeerView[],
  now: number,
): RepairResult {
  const r = lag.repair;
  if (r.phase !== "catching-up") return { repair: r };
  if ("callFailed" in answer)
    return retry(r.attempts, now, `GET /v1/sync failed during the catch-up: ${answer.callFailed}`, "failed");
  if (answer.phase === "idle")
    return retry(
      r.attempts,
      now,
      "the replica restarted during the catch-up (its sync status is idle)",
      "failed",
    );
  if (!sameRun(r, answer)) {
    // Another catch-up replaced the one we followed (ours ended unseen): follow the new one, which
    // covers only the misses recorded from now on; a finished one of unknown start proves nothing.
    if (answer.phase === "running")
      return { repair: seen(lag, answer, peers, false, lag.misses, r.attempts) };
    return retry(r.attempts, now, "another catch-up ran on the replica; starting ours", "restarted");
  }
  if (answer.phase === "running") return { repair: r };
  if (answer.phase === "failed")
    return retry(
      r.attempts,
      now,
      `catch-up from ${r.from} failed: ${answer.error ?? "no reason given"}`,
      "failed",
    );
  if (!r.covers)
    return retry(
      r.attempts,
      now,
      `the catch-up from ${r.from} after seq ${r.afterSeq} did not cover this router's missed writes`,
      "restarted",
    );
  if (lag.misses !== r.missesAtStart)
    return retry(
      r.attempts,
      now,
      `${lag.misses - r.missesAtStart} write(s) missed during the catch-up`,
      "restarted",
    );
  return { repair: undefined, outcome: "repaired" };
}
