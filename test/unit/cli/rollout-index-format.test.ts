import { describe, expect, it } from "vitest";
import { commandRevisionOf, formatIndexRolloutView } from "../../../src/cli/rollout-index.js";
import type { GenerationRolloutStatus } from "../../../src/generation/generation-rollout.js";

const status: GenerationRolloutStatus = {
  phase: "Backfilling",
  reason: "Backfilling",
  message: "every write now goes to both",
  candidateGeneration: "g-d5b191cf08ea",
  candidateFingerprint: `d5b191cf08ea${"0".repeat(52)}`,
  fromGeneration: "g-9bc37c6b0bad",
  fromFingerprint: `9bc37c6b0bad${"0".repeat(52)}`,
  weight: 0,
  stepIndex: 0,
  failedChecks: 0,
  inconclusiveChecks: 0,
  startedAt: "2026-12-02T12:00:00Z",
  phaseSince: "2026-12-02T12:00:05Z",
};
const view = { index: "docs", activeGeneration: "g-9bc37c6b0bad", maxFailedChecks: 1, source: "test" };

describe("formatIndexRolloutView", () => {
  it("when a backfill runs, then the line shows the candidate, the phase, the active generation and the progress", () => {
    const text = formatIndexRolloutView({ ...view, rollout: status, backfill: "BACKFILL 41% ETA 3m" });
    expect(text).toBe(
      "vi/docs  generation g-d5b191…(0% of queries) Backfilling  active g-9bc37c…  BACKFILL 41% ETA 3m  checks failed 0/1\n  every write now goes to both",
    );
  });

  it("when the cluster's progress has no prefix, then it gets one; when the move ended, the progress is not shown", () => {
    expect(formatIndexRolloutView({ ...view, rollout: status, backfill: "41% ETA 3m" })).toContain(
      "BACKFILL 41% ETA 3m",
    );
    const failed = { ...status, phase: "Failed" as const, reason: "RecallGateFailed", lastRecall: 0.71 };
    const text = formatIndexRolloutView({ ...view, rollout: failed, backfill: "BACKFILL done" });
    expect(text).toMatch(
      /^vi\/docs {2}generation g-d5b191…\(0% of queries\) Failed \(RecallGateFailed\) {2}active g-9bc37c… {2}recall 0\.71/,
    );
    expect(text).not.toContain("BACKFILL");
  });

  it("when there was never a move, then it says so", () => {
    expect(formatIndexRolloutView({ ...view, rollout: undefined, backfill: undefined })).toBe(
      "vi/docs  no generation move  active g-9bc37c…",
    );
  });

  it("then a command names the candidate by the 12 hex digits of its generation", () => {
    expect(commandRevisionOf(status)).toBe("d5b191cf08ea");
  });
});
