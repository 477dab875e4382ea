// What the model's rollout is told about the indexes built on it while its candidate is held at
// NewGenerationRequired: how many there are, how many serve the candidate's fingerprint, which failed.
import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { indexHandOff, indexWatch } from "../../../controllers/embedding-model/index-hand-off.js";

const OLD = "a".repeat(64);
const NEW = "b".repeat(64);
const vi = (name: string, status: Record<string, unknown> = {}, model = "m", namespace = "ns") =>
  ({
    apiVersion: "embedops.dev/v1alpha1",
    kind: "VectorIndex",
    metadata: { name, namespace },
    spec: { modelRef: { name: model } },
    status,
  }) as KubernetesObject;
const failedMove = (reason: string, candidateFingerprint = NEW) => ({
  fingerprint: OLD,
  rollout: { phase: "Failed", reason, candidateFingerprint, message: `${reason}: recall 0.12` },
});

describe("indexHandOff", () => {
  it.each([
    ["no index names the model", [vi("x", {}, "other")], { total: 0, onCandidate: 0 }],
    [
      "one of two indexes serves the candidate",
      [vi("a", { fingerprint: NEW }), vi("b", { fingerprint: OLD })],
      { total: 2, onCandidate: 1 },
    ],
    [
      "every index serves the candidate",
      [vi("a", { fingerprint: NEW }), vi("b", { fingerprint: NEW })],
      { total: 2, onCandidate: 2 },
    ],
    [
      "an index of another namespace serves it",
      [vi("a", { fingerprint: OLD }), vi("a", { fingerprint: NEW }, "m", "elsewhere")],
      { total: 1, onCandidate: 0 },
    ],
    [
      "one index's gate failed",
      [vi("b", failedMove("RecallGateFailed")), vi("a", { fingerprint: OLD })],
      {
        total: 2,
        onCandidate: 0,
        failed: { index: "b", message: "RecallGateFailed: recall 0.12" },
      },
    ],
    [
      "a move was withdrawn by the model (Superseded)",
      [vi("a", failedMove("Superseded"))],
      { total: 1, onCandidate: 0 },
    ],
    [
      "a move to another fingerprint failed earlier",
      [vi("a", failedMove("RecallGateFailed", "c".repeat(64)))],
      { total: 1, onCandidate: 0 },
    ],
  ])("when %s, then the hand-off says so", (_when, indexes, expected) => {
    expect(indexHandOff(indexes, "ns", "m", NEW)).toEqual(expected);
  });

  it("when an index changes, then its model is reconciled", () => {
    expect(indexWatch.keysFor(vi("a", {}, "m"), () => ({}) as never)).toEqual(["ns/m"]);
  });
});
