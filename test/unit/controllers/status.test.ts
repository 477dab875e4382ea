import type { V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { modelStatus } from "../../../controllers/embedding-model/status.js";
import { transitionEvents } from "../../../controllers/shared/transition-events.js";
import { indexStatus } from "../../../controllers/vector-index/status.js";
import { FINGERPRINT } from "../builders/fixtures.js";

const T0 = "2026-01-01T00:00:00Z";
const T1 = "2026-01-01T00:05:00Z";
const cond = (s: { conditions?: { type: string; status: string; reason?: string }[] }, type: string) =>
  s.conditions?.find((c) => c.type === type);

const deployment = (ready: number, replicas = 1): V1Deployment => ({
  metadata: { generation: 2 },
  spec: { replicas, selector: {}, template: {} },
  status: {
    observedGeneration: 2,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: ready,
    availableReplicas: ready,
  },
});
const sts = (ready: number, replicas = 1): V1StatefulSet => ({
  metadata: { generation: 1 },
  spec: { replicas, selector: {}, serviceName: "x", template: {} },
  status: { observedGeneration: 1, replicas, readyReplicas: ready, updatedReplicas: replicas },
});

describe("EmbeddingModel status", () => {
  it("when the spec is invalid, then InvalidSpec is True with the message and the phase is Failed", () => {
    const s = modelStatus({
      generation: 1,
      invalidSpec: "spec.dimension: too big",
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "InvalidSpec")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(s.phase).toBe("Failed");
  });

  it("when the encoder is rolled out and reported its fingerprint, then Ready is True and the fingerprint is set", () => {
    const s = modelStatus({
      generation: 2,
      dimension: 384,
      deployment: deployment(1),
      revision: "abc",
      report: { fingerprint: FINGERPRINT, dimension: 384 },
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "True", reason: "EncoderAvailable" });
    expect(s).toMatchObject({
      phase: "Ready",
      fingerprint: FINGERPRINT,
      fingerprintShort: FINGERPRINT.slice(0, 12),
      observedGeneration: 2,
    });
  });

  it("when the encoder reports another dimension than the spec, then Degraded is True with DimensionMismatch", () => {
    const s = modelStatus({
      generation: 2,
      dimension: 768,
      deployment: deployment(1),
      report: { fingerprint: FINGERPRINT, dimension: 384 },
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Degraded")).toMatchObject({ status: "True", reason: "DimensionMismatch" });
    expect(cond(s, "Ready")?.status).toBe("False");
  });

  it("when no pod is ready, then Ready is False and Progressing is True", () => {
    const s = modelStatus({
      generation: 2,
      dimension: 384,
      deployment: deployment(0),
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "EncoderNotReady" });
    expect(cond(s, "Progressing")?.status).toBe("True");
  });

  it("when the same observation is computed later, then the status equals the previous one (no write)", () => {
    const o = {
      generation: 2,
      dimension: 384,
      deployment: deployment(1),
      report: { fingerprint: FINGERPRINT, dimension: 384 },
    };
    const first = modelStatus({ ...o, previous: undefined, now: T0 });
    const again = modelStatus({ ...o, previous: first, now: T1 });
    expect(again).toEqual(first);
  });

  it("when a rollout asserts Progressing and Degraded, then they replace the workload's own, and Ready stays with the stable", () => {
    const canary = {
      phase: "Failed" as const,
      reason: "RolloutFailed",
      message: "revision b rolled back after 1 failed check(s): p99 900 ms > 500 ms at weight 10%",
      revision: "b",
      stableRevision: "a",
      weight: 0,
      stepIndex: 0,
      failedChecks: 1,
      inconclusiveChecks: 0,
      startedAt: T0,
    };
    const s = modelStatus({
      generation: 2,
      dimension: 384,
      deployment: deployment(1),
      revision: "a",
      report: { fingerprint: FINGERPRINT, dimension: 384 },
      previous: undefined,
      now: T1,
      rollout: {
        canary,
        conditions: [
          { type: "Progressing", status: "False", reason: "RolloutFailed", message: canary.message },
          { type: "Degraded", status: "True", reason: "RolloutFailed", message: canary.message },
        ],
      },
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "True" });
    expect(cond(s, "Degraded")).toMatchObject({ status: "True", reason: "RolloutFailed" });
    expect(cond(s, "Progressing")).toMatchObject({ status: "False", reason: "RolloutFailed" });
    expect(s.canary).toEqual(canary);
    expect(s.revision).toBe("a");
    expect(s.phase).toBe("Degraded");
  });

  it("when applying children failed, then ApplyFailed keeps Degraded over the rollout's", () => {
    const s = modelStatus({
      generation: 2,
      deployment: deployment(1),
      applyError: "applying Deployment/x failed: forbidden",
      previous: undefined,
      now: T1,
      rollout: {
        canary: undefined,
        conditions: [{ type: "Degraded", status: "True", reason: "RolloutFailed", message: "m" }],
      },
    });
    expect(cond(s, "Degraded")).toMatchObject({ status: "True", reason: "ApplyFailed" });
  });
});

describe("VectorIndex status", () => {
  const resolution = { ok: true as const, model: "minilm", fingerprint: FINGERPRINT, dimension: 384 };

  it("when every shard and the router are rolled out, then Ready is True and the generation is Active", () => {
    const s = indexStatus({
      generation: 1,
      resolution,
      shards: [sts(1), sts(1)],
      router: deployment(1),
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "True", reason: "IndexAvailable" });
    expect(s.activeGeneration).toBe("g-0123456789ab");
    expect(s.generations?.[0]).toMatchObject({ name: "g-0123456789ab", phase: "Active" });
  });

  it("when a shard has no ready replica, then Ready is False and Progressing is True", () => {
    const s = indexStatus({
      generation: 1,
      resolution,
      shards: [sts(1), sts(0)],
      router: deployment(1),
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "WorkloadsNotReady" });
    expect(cond(s, "Progressing")?.status).toBe("True");
  });

  it.each([
    ["ModelNotFound", false],
    ["DimensionMismatch", true],
  ] as const)(
    "when the model resolution fails with %s, then ModelResolved is False with that reason",
    (reason, specError) => {
      const s = indexStatus({
        generation: 1,
        resolution: { ok: false, reason, message: "m", specError },
        previous: undefined,
        now: T0,
      });
      expect(cond(s, "ModelResolved")).toMatchObject({ status: "False", reason });
      expect(cond(s, "InvalidSpec")?.status).toBe(specError ? "True" : "False");
    },
  );
});

describe("transition events", () => {
  it("when Ready turns True, then one Normal Ready event; when nothing changes, then none", () => {
    const before = [{ type: "Ready", status: "False" as const, reason: "WorkloadsNotReady" }];
    const after = [{ type: "Ready", status: "True" as const, reason: "IndexAvailable", message: "ok" }];
    expect(transitionEvents(before, after)).toEqual([{ type: "Normal", reason: "Ready", message: "ok" }]);
    expect(transitionEvents(after, after)).toEqual([]);
  });

  it("when ModelResolved turns False with ModelNotFound, then a Warning event names the reason", () => {
    const after = [
      { type: "ModelResolved", status: "False" as const, reason: "ModelNotFound", message: "gone" },
    ];
    expect(transitionEvents(undefined, after)).toEqual([
      { type: "Warning", reason: "ModelNotFound", message: "gone" },
    ]);
  });
});

describe("VectorIndex status with spec.restore", () => {
  const resolution = { ok: true as const, model: "minilm", fingerprint: FINGERPRINT, dimension: 384 };

  it("when the restore waits for its snapshot, then Ready and Restored are False with its reason and no generation is reported", () => {
    const s = indexStatus({
      generation: 1,
      resolution,
      restore: {
        blocked: { reason: "RestoreSourceNotReady", message: "IndexSnapshot x is Running", refused: false },
      },
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "RestoreSourceNotReady" });
    expect(cond(s, "Restored")).toMatchObject({ status: "False", reason: "RestoreSourceNotReady" });
    expect(cond(s, "Degraded")).toMatchObject({ status: "False" });
    expect(s.activeGeneration).toBeUndefined();
    expect(s.phase).toBe("Pending");
  });

  it("when the restore is refused, then Degraded is True and the phase Degraded", () => {
    const s = indexStatus({
      generation: 1,
      resolution,
      restore: { blocked: { reason: "RestoreFingerprintMismatch", message: "a vs b", refused: true } },
      previous: undefined,
      now: T0,
    });
    expect(cond(s, "Degraded")).toMatchObject({ status: "True", reason: "RestoreFingerprintMismatch" });
    expect(s.phase).toBe("Degraded");
  });

  it("when the restore was recorded earlier, then restoredFrom and Restored=True stay", () => {
    const restoredFrom = {
      snapshot: "nightly",
      fromIndex: "old",
      fingerprint: FINGERPRINT,
      vectors: 5,
      restoredAt: T0,
    };
    const s = indexStatus({
      generation: 1,
      resolution,
      shards: [sts(1)],
      router: deployment(1),
      lastSnapshot: { name: "s1", completedAt: T1 },
      previous: { restoredFrom },
      now: T1,
    });
    expect(s.restoredFrom).toEqual(restoredFrom);
    expect(s.lastSnapshot).toEqual({ name: "s1", completedAt: T1 });
    expect(cond(s, "Restored")).toMatchObject({ status: "True", reason: "RestoreApplied" });
  });

  it("when the golden-set check of the restored generation has a result, then RestoreVerified carries it", () => {
    const s = indexStatus({
      generation: 1,
      resolution,
      shards: [sts(1)],
      router: deployment(1),
      restore: { verified: { status: "False", reason: "RecallBelowMinimum", message: "recall@10 0.42" } },
      previous: undefined,
      now: T1,
    });
    expect(cond(s, "RestoreVerified")).toMatchObject({ status: "False", reason: "RecallBelowMinimum" });
    expect(cond(s, "Ready")).toMatchObject({ status: "True" });
  });
});
