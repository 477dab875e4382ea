import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
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
