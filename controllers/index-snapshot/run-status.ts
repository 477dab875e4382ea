// The status a snapshot run writes into its IndexSnapshot (Running, then Succeeded or Failed), and
// the names and marks the runner, the operator and retention agree on. Pure: the runner
// (src/cli/snapshot-cluster.ts) only applies what these return.
import type { IndexSnapshotStatus } from "../../src/api/v1alpha1/index.js";
import { mergeConditions } from "../../src/kube/status.js";
import type { ShardManifest } from "../../src/snapshot/manifest.js";
import type { RetentionCandidate } from "../../src/snapshot/retention.js";
import { condition } from "../shared/conditions.js";

/** Set by whoever drives a snapshot (a CronJob pod, an IndexSnapshot Job, the CLI): the operator then starts no Job. */
export const RUNNER_ANNOTATION = "embedops.dev/snapshot-runner";
/** "scheduled" on snapshots the CronJob made: only those are subject to spec.snapshot.retain. */
export const TRIGGER_LABEL = "embedops.dev/snapshot-trigger";
export const SCHEDULED = "scheduled";
/** Set by retention once the store's files are gone, so the finalizer knows nothing is left behind. */
export const STORE_DELETED_ANNOTATION = "embedops.dev/store-files-deleted";
/** The runner's server-side-apply field manager (the operator's is "embedops"). */
export const RUNNER_FIELD_MANAGER = "embedops-snapshot-runner";

type Phase = NonNullable<IndexSnapshotStatus["phase"]>;

/** Decimal units, one decimal: what `kubectl get isnap` shows in SIZE. */
export function humanBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export interface RunStart {
  readonly generation: string;
  readonly fingerprint: string;
  readonly startedAt: string;
  /** Store location of the snapshot's root, e.g. s3://bucket/prefix/docs/docs-20260101-030000/. */
  readonly location: string;
}

export type RunOutcome =
  | { readonly phase: "Running" }
  | { readonly phase: "Succeeded"; readonly shards: readonly ShardManifest[]; readonly bytes: number }
  | { readonly phase: "Failed"; readonly error: string };

export interface RunObservation {
  readonly start: RunStart;
  readonly outcome: RunOutcome;
  readonly objectGeneration: number | undefined;
  readonly previous: IndexSnapshotStatus | undefined;
  readonly now: string;
}

function conditionsFor(o: RunObservation): IndexSnapshotStatus["conditions"] {
  const c = (type: string, status: "True" | "False", reason: string, message: string) =>
    condition(type, status, reason, message, o.objectGeneration);
  const out = o.outcome;
  const list =
    out.phase === "Running"
      ? [
          c("Ready", "False", "Running", `copying generation ${o.start.generation} to ${o.start.location}`),
          c("Progressing", "True", "Running", `copying generation ${o.start.generation}`),
          c("Degraded", "False", "AsExpected", "no problems found"),
        ]
      : out.phase === "Succeeded"
        ? [
            c(
              "Ready",
              "True",
              "Succeeded",
              `${out.shards.reduce((n, s) => n + s.vectorCount, 0)} vectors, ${humanBytes(out.bytes)} at ${o.start.location}`,
            ),
            c("Progressing", "False", "Succeeded", "the copy is complete"),
            c("Degraded", "False", "AsExpected", "no problems found"),
          ]
        : [
            c("Ready", "False", "SnapshotFailed", out.error),
            c("Progressing", "False", "SnapshotFailed", "the run ended without a complete copy"),
            c("Degraded", "True", "SnapshotFailed", out.error),
          ];
  return mergeConditions(
    o.previous?.conditions,
    [...list, c("InvalidSpec", "False", "Valid", "the spec is valid")],
    o.now,
  ) as IndexSnapshotStatus["conditions"];
}

/** The whole status of a run at one point: everything the runner owns, so an apply leaves nothing stale. */
export function runStatus(o: RunObservation): IndexSnapshotStatus {
  const out = o.outcome;
  const phase: Phase = out.phase;
  const base: IndexSnapshotStatus = {
    ...(o.objectGeneration !== undefined ? { observedGeneration: o.objectGeneration } : {}),
    conditions: conditionsFor(o),
    phase,
    // Unknown ones stay unset (a run that failed before it knew them): the schema refuses "".
    ...(o.start.generation ? { generation: o.start.generation } : {}),
    ...(o.start.fingerprint ? { fingerprint: o.start.fingerprint } : {}),
    ...(o.start.location ? { location: o.start.location } : {}),
    startedAt: o.start.startedAt,
  };
  if (out.phase === "Running") return base;
  if (out.phase === "Failed") return { ...base, completedAt: o.now };
  const first = out.shards[0];
  return {
    ...base,
    completedAt: o.now,
    ...(first
      ? {
          metric: first.metric,
          dimension: first.dimension,
          hnsw: { m: first.hnsw.m, efConstruction: first.hnsw.efConstruction },
        }
      : {}),
    vectors: out.shards.reduce((n, s) => n + s.vectorCount, 0),
    bytes: out.bytes,
    size: humanBytes(out.bytes),
    shards: out.shards.map((s) => ({
      shard: s.shard,
      vectors: s.vectorCount,
      files: s.files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
    })),
  };
}

/** An IndexSnapshot as retention reads it. */
export interface SnapshotObject {
  readonly metadata?: {
    readonly name?: string;
    readonly creationTimestamp?: string | Date;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: string | Date;
  };
  readonly status?: { readonly phase?: Phase; readonly completedAt?: string };
}

/**
 * Scheduled snapshots a runner took but never finished (Pending or Running with the runner
 * annotation). The CronJob forbids overlapping runs, so when a new run starts, any such object's
 * runner is gone (its pod killed or evicted): it is marked Failed, and retention removes it a day
 * later like any failed run.
 */
export function orphanedRuns(objects: readonly SnapshotObject[]): string[] {
  return objects.flatMap((o) => {
    const m = o.metadata;
    const name = m?.name;
    if (!name || m?.labels?.[TRIGGER_LABEL] !== SCHEDULED || m.deletionTimestamp) return [];
    if (!m.annotations?.[RUNNER_ANNOTATION]) return [];
    const phase = o.status?.phase ?? "Pending";
    return phase === "Pending" || phase === "Running" ? [name] : [];
  });
}

const iso = (t: string | Date | undefined) => (t instanceof Date ? t.toISOString() : t);

/** Scheduled, not already deleting: what spec.snapshot.retain counts; hand-made snapshots are never candidates. */
export function retentionCandidatesOf(objects: readonly SnapshotObject[]): RetentionCandidate[] {
  return objects.flatMap((o) => {
    const name = o.metadata?.name;
    if (!name || o.metadata?.labels?.[TRIGGER_LABEL] !== SCHEDULED || o.metadata.deletionTimestamp) return [];
    const createdAt = iso(o.metadata.creationTimestamp);
    return [
      {
        name,
        ...(o.status?.phase ? { phase: o.status.phase } : {}),
        ...(o.status?.completedAt ? { completedAt: o.status.completedAt } : {}),
        ...(createdAt ? { createdAt } : {}),
      },
    ];
  });
}
