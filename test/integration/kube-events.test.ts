import type { V1ConfigMap } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KubeEventRecorder } from "../../src/kube/events.js";
import { adminClients, namespace } from "./kube-helpers.js";

describe("event recorder against a real API server", () => {
  it("when the same event is recorded three times, then one Event exists with series count 3", async () => {
    const ns = await namespace("kube-events-dedupe");
    const { objects, core } = adminClients();
    const regarding = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "subject" }, data: {} },
    });
    const obj: V1ConfigMap = { ...regarding, apiVersion: "v1", kind: "ConfigMap" };
    const recorder = new KubeEventRecorder({ objects, instance: "test_1" });
    for (let i = 0; i < 3; i++)
      await recorder.warning(obj, "ModelMissing", "EmbeddingModel minilm not found");
    await recorder.normal(obj, "Converged", "all children ready");

    const list = await objects.list<{
      metadata?: { name?: string };
      reason?: string;
      note?: string;
      type?: string;
      series?: { count?: number };
      regarding?: { uid?: string };
    }>("events.k8s.io/v1", "Event", ns);
    const byReason = new Map(list.items.map((e) => [e.reason, e]));
    expect(list.items).toHaveLength(2);
    expect(byReason.get("ModelMissing")).toMatchObject({
      type: "Warning",
      note: "EmbeddingModel minilm not found",
      series: { count: 3 },
      regarding: { uid: regarding.metadata?.uid },
    });
    expect(byReason.get("Converged")?.series).toBeUndefined();
  });
});
