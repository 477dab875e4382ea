// The status of a VectorIndex moving to a new generation, from the machine's result: which
// generations exist with which phase, the Backfill column's text, and when a failed move degrades.
import { describe, expect, it } from "vitest";
import {
  backfillProgress,
  failedMove,
  generationEntries,
  type MoveView,
} from "../../../controllers/vector-index/move-status.js";
import type { GenerationRolloutStatus } from "../../../src/generation/generation-rollout.js";
import type { BackfillRecord } from "../../../src/generation/progress.js";

const NOW = Date.parse("2026-01-01T00:10:00Z");
const N = { generation: "g-aaaaaaaaaaaa", fingerprint: "a".repeat(64) };
const N1 = { generation: "g-bbbbbbbbbbbb", fingerprint: "b".repeat(64) };
const rollout = (over: Partial<GenerationRolloutStatus> = {}): GenerationRolloutStatus => ({
  phase: "Backfilling",
  candidateGeneration: N1.generation,
  candidateFingerprint: N1.fingerprint,
  fromGeneration: N.generation,
  fromFingerprint: N.fingerprint,
  weight: 0,
  stepIndex: 0,
  failedChecks: 0,
  inconclusiveChecks: 0,
  startedAt: "2026-01-01T00:00:00Z",
  phaseSince: "2026-01-01T00:05:00Z",
  ...over,
});
const record = (over: Partial<BackfillRecord> = {}): BackfillRecord => ({
  from: N.generation,
  to: N1.generation,
  cursor: {},
  done: 410,
  skippedExisting: 0,
  withoutText: 0,
  total: 1000,
  ratePerSecond: 3.25,
  etaSeconds: 180,
  startedAt: "2026-01-01T00:05:00Z",
  updatedAt: "2026-01-01T00:10:00Z",
  finished: false,
  ...over,
});
const candidate = (over = {}) => ({
  ref: N1,
  inRouters: true,
  queryWeight: 0,
  backfill: true,
  gate: false,
  probe: false,
  ...over,
});
const view = (over: Partial<MoveView> = {}): MoveView => ({
  active: N,
  activeReady: true,
  desired: { activeGeneration: N, candidate: candidate() },
  rollout: rollout(),
  retainedKept: false,
  previous: undefined,
  now: NOW,
  nowText: "2026-01-01T00:10:00Z",
  ...over,
});

describe("a VectorIndex's status while it moves to a new generation", () => {
  it("when the backfill reports 41% with 3 minutes left, then the Backfill column reads 41% ETA 3m and N+1 carries the numbers", () => {
    const v = view({ record: record() });
    expect(backfillProgress(v)).toBe("41% ETA 3m");
    expect(generationEntries(v)).toEqual([
      { name: N.generation, fingerprint: N.fingerprint, phase: "Active", createdAt: v.nowText },
      {
        name: N1.generation,
        fingerprint: N1.fingerprint,
        phase: "Backfilling",
        createdAt: v.nowText,
        backfill: { done: 410, total: 1000, rate: 3.3, etaSeconds: 180, withoutText: 0 },
      },
    ]);
  });

  it("when no record was written yet, then the column says starting", () => {
    expect(backfillProgress(view())).toBe("starting");
  });

  it("when the move is past its backfill, then the column says done, and nothing once it ended", () => {
    expect(backfillProgress(view({ rollout: rollout({ phase: "Gating" }) }))).toBe("done");
    expect(backfillProgress(view({ rollout: rollout({ phase: "Succeeded" }) }))).toBeUndefined();
    expect(backfillProgress(view({ rollout: undefined }))).toBeUndefined();
  });

  it("when N+1 is analysed on queries, then it is a Canary generation", () => {
    const v = view({ rollout: rollout({ phase: "Progressing", weight: 10 }) });
    expect(generationEntries(v).map((g) => g.phase)).toEqual(["Active", "Canary"]);
  });

  it("when the move succeeded and N is retained, then N+1 is Active and N Retired; after retainPrevious N is gone", () => {
    const desired = { activeGeneration: N1, retained: { ref: N, deleteAfter: NOW + 1000 } };
    const s = rollout({ phase: "Succeeded" });
    const kept = view({ active: N1, desired, rollout: s, retainedKept: true });
    expect(generationEntries(kept).map((g) => [g.name, g.phase])).toEqual([
      [N1.generation, "Active"],
      [N.generation, "Retired"],
    ]);
    const pruned = view({ active: N1, desired, rollout: s, retainedKept: false });
    expect(generationEntries(pruned).map((g) => g.name)).toEqual([N1.generation]);
  });

  it("when the gate failed and the model still asks for N+1, then the index is degraded with the machine's reason", () => {
    const s = rollout({ phase: "Failed", reason: "RecallGateFailed", message: "recall 0.12 < 0.90" });
    expect(failedMove(s, N1)).toEqual({ reason: "RecallGateFailed", message: "recall 0.12 < 0.90" });
    // The model gave its candidate up: the index serves N as its model does.
    expect(failedMove(s, N)).toBeUndefined();
    expect(failedMove(rollout({ phase: "Failed", reason: "Superseded" }), N1)).toBeUndefined();
  });
});
