// Stands in for what only running pods could tell the operator about a generation move (no pods
// run against a bare API server): whether every router writes to N+1, the backfill's progress
// record in N+1's first shard, the recall gate's result and the query canary's verdict. The test
// decides per index, as a router, the backfill Job or the gate would report.
import type {
  GateObservation,
  GenerationProbe,
  MoveTarget,
} from "../../controllers/vector-index/generation-probe.js";
import type { BackfillRecord } from "../../src/generation/progress.js";

const keyOf = (t: { namespace: string; index: string }) => `${t.namespace}/${t.index}`;

export class GenerationStandIn implements GenerationProbe {
  private readonly routersOn = new Map<string, boolean>();
  private readonly records = new Map<string, BackfillRecord>();
  private readonly gates = new Map<string, GateObservation>();
  /** Generations the operator asked about, by index: the calls reach the candidate it moves to. */
  readonly asked = new Map<string, Set<string>>();

  /** Whether the index's routers report the candidate (default: as soon as its shards are ready). */
  setDualWriting(namespace: string, index: string, on: boolean): void {
    this.routersOn.set(keyOf({ namespace, index }), on);
  }
  /** The backfill's record, as `embedops backfill` writes it after a batch. */
  setBackfill(namespace: string, index: string, record: BackfillRecord): void {
    this.records.set(keyOf({ namespace, index }), record);
  }
  setGate(namespace: string, index: string, gate: GateObservation): void {
    this.gates.set(keyOf({ namespace, index }), gate);
  }

  private note(t: MoveTarget): void {
    const set = this.asked.get(keyOf(t)) ?? new Set<string>();
    set.add(t.generation);
    this.asked.set(keyOf(t), set);
  }

  readonly dualWriting: GenerationProbe["dualWriting"] = async (t) => {
    this.note(t);
    return this.routersOn.get(keyOf(t)) ?? true;
  };
  readonly backfill: GenerationProbe["backfill"] = async (t) => {
    this.note(t);
    const r = this.records.get(keyOf(t));
    return r?.to === t.generation ? r : undefined;
  };
  readonly gate: GenerationProbe["gate"] = async (t) => {
    this.note(t);
    return this.gates.get(keyOf(t));
  };
  readonly verdict: GenerationProbe["verdict"] = async (t) => {
    this.note(t);
    return { result: "Pass", message: `stand-in: queries on ${t.generation} within the SLO` };
  };
  readonly forget: GenerationProbe["forget"] = () => {};
}

/** A backfill record at `done` of `total`, `etaSeconds` left, written just now. */
export function backfillRecord(
  from: string,
  to: string,
  done: number,
  total: number,
  etaSeconds: number | null,
  finished = false,
): BackfillRecord {
  const now = new Date().toISOString();
  return {
    from,
    to,
    cursor: { "shard-0": done },
    done,
    skippedExisting: 0,
    withoutText: 0,
    total,
    ratePerSecond: 5,
    etaSeconds,
    startedAt: now,
    updatedAt: now,
    finished,
  };
}
