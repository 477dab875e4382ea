import { describe, expect, it } from "vitest";
import { formatRolloutView } from "../../../src/cli/rollout.js";

describe("formatRolloutView", () => {
  it("when a canary is at a step, then one line says revisions, weight, phase, failed checks and the last verdict", () => {
    const text = formatRolloutView({
      model: "minilm",
      stableRevision: "9c1b000000",
      maxFailedChecks: 1,
      source: "test",
      canary: {
        phase: "Progressing",
        reason: "Analyzing",
        message: "revision 4f3a000000 passed at weight 10%; now 50% (step 2 of 2)",
        revision: "4f3a000000",
        stableRevision: "9c1b000000",
        weight: 10,
        stepIndex: 0,
        failedChecks: 0,
        inconclusiveChecks: 0,
        startedAt: "2026-01-01T00:00:00Z",
        lastVerdict: { result: "Pass", message: "all checks passed at weight 10%" },
      },
    });
    expect(text.split("\n")[0]).toBe(
      "em/minilm  canary 4f3a…(10%) Progressing (Analyzing)  stable 9c1b…  checks failed 0/1  last: Pass all checks passed at weight 10%",
    );
    expect(text.split("\n")[1]).toContain("now 50%");
  });

  it("when no rollout ever ran, then it says so", () => {
    expect(
      formatRolloutView({
        model: "m",
        stableRevision: "abcdef0123",
        canary: undefined,
        maxFailedChecks: 1,
        source: "t",
      }),
    ).toBe("em/m  no rollout  stable abcd…");
  });
});
