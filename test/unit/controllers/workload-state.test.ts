import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { snapshotStatus } from "../../../controllers/index-snapshot/reconciler.js";
import { deploymentState } from "../../../controllers/shared/conditions.js";

const d = (status: V1Deployment["status"], generation = 3, replicas = 2): V1Deployment => ({
  metadata: { generation },
  spec: { replicas, selector: {}, template: {} },
  status,
});
const all = {
  observedGeneration: 3,
  replicas: 2,
  updatedReplicas: 2,
  readyReplicas: 2,
  availableReplicas: 2,
};

describe("deploymentState", () => {
  it.each([
    ["every pod updated and available", all, true],
    ["the controller has not seen the new spec", { ...all, observedGeneration: 2 }, false],
    ["an old pod is still running", { ...all, replicas: 3 }, false],
    ["a pod is not available", { ...all, availableReplicas: 1, readyReplicas: 1 }, false],
    ["no status was written yet", undefined, false],
  ])("when %s, then rolledOut is %s", (_what, status, rolledOut) => {
    expect(deploymentState(d(status)).rolledOut).toBe(rolledOut);
  });
});

describe("IndexSnapshot status", () => {
  it.each([
    [{ invalidSpec: "spec.indexRef.name: required" }, "InvalidSpec", "Failed"],
    [{ indexFound: false, indexName: "docs" }, "IndexNotFound", "Pending"],
    [{ indexFound: true, indexName: "docs" }, "NotImplemented", "Pending"],
  ])("when %o, then Ready is False with %s and the phase is %s", (o, reason, phase) => {
    const s = snapshotStatus({ generation: 1, previous: undefined, now: "2026-01-01T00:00:00Z", ...o });
    expect(s.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason });
    expect(s.phase).toBe(phase);
  });
});
