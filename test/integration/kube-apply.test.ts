import type { KubernetesObject, V1ConfigMap } from "@kubernetes/client-node";
import { PatchStrategy } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Applier, FIELD_MANAGER, FINALIZER } from "../../src/kube/apply.js";
import { controllerReference } from "../../src/kube/owner.js";
import { mergeConditions } from "../../src/kube/status.js";
import { adminKubeConfig } from "./harness/index.js";
import { adminClients, cp, ensureWidgetCrd, namespace, WIDGET } from "./kube-helpers.js";

const configMap = (ns: string, data: Record<string, string>): V1ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "router-config", namespace: ns, labels: { "app.kubernetes.io/managed-by": "embedops" } },
  data,
});

describe("server-side apply against a real API server", () => {
  it("when the same ConfigMap is applied twice, then the second apply changes nothing (resourceVersion kept)", async () => {
    const ns = await namespace("kube-apply-twice");
    const { objects } = adminClients();
    const apply = (cm: V1ConfigMap) =>
      objects.patch(cm, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    const first = await apply(configMap(ns, { shards: "3" }));
    const second = await apply(configMap(ns, { shards: "3" }));
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(second.metadata?.managedFields?.map((f) => f.manager)).toEqual([FIELD_MANAGER]);
    const third = await apply(configMap(ns, { shards: "4" }));
    expect(third.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
  });

  it("when Applier.apply is given the observed object and nothing changed, then it issues zero writes", async () => {
    const ns = await namespace("kube-apply-skip");
    const { objects, counter } = adminClients();
    const applier = new Applier(objects);
    const created = await applier.apply(configMap(ns, { shards: "3" }));
    expect(created.changed).toBe(true);
    const observed = await objects.read<V1ConfigMap>({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "router-config", namespace: ns },
    });
    counter.reset();
    const again = await applier.apply(configMap(ns, { shards: "3" }), observed);
    expect(again.changed).toBe(false);
    expect(counter.writes()).toEqual([]);

    const changed = await applier.apply(configMap(ns, { shards: "5" }), observed);
    expect(changed.changed).toBe(true);
    expect(counter.writes().map((w) => w.method)).toEqual(["PATCH"]);
    expect(changed.object.data).toEqual({ shards: "5" });
  });

  it("when a child is applied with a controller reference, then the API server stores it", async () => {
    const ns = await namespace("kube-apply-owner");
    const { objects } = adminClients();
    const applier = new Applier(objects);
    const owner = (await applier.apply(configMap(ns, { role: "owner" }))).object;
    const child: V1ConfigMap = {
      ...configMap(ns, { role: "child" }),
      metadata: { name: "child", namespace: ns, ownerReferences: [controllerReference(owner)] },
    };
    const stored = (await applier.apply(child)).object;
    expect(stored.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "router-config",
        uid: owner.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it("when status is applied, then only the status subresource changes, and an unchanged status is not written", async () => {
    const ns = await namespace("kube-apply-status");
    await ensureWidgetCrd(adminKubeConfig(cp));
    const { objects, counter } = adminClients();
    const applier = new Applier(objects);
    const widget = (
      await applier.apply({
        apiVersion: WIDGET.apiVersion,
        kind: WIDGET.kind,
        metadata: { name: "w1", namespace: ns },
        spec: { size: 2 },
      } as KubernetesObject)
    ).object as KubernetesObject & { status?: { conditions?: [] } };

    const conditions = mergeConditions(
      undefined,
      [{ type: "Ready", status: "True", reason: "Converged", message: "ok" }],
      new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    );
    const status = { observedGeneration: 1, conditions };
    const written = await applier.applyStatus(widget, status, widget.status);
    expect(written.changed).toBe(true);
    const stored = written.object as KubernetesObject & { spec: unknown; status: unknown };
    expect(stored.status).toEqual(status);
    expect(stored.spec).toEqual({ size: 2 });

    counter.reset();
    const later = mergeConditions(
      conditions,
      [{ type: "Ready", status: "True", reason: "Converged", message: "ok" }],
      "2099-01-01T00:00:00Z",
    );
    const again = await applier.applyStatus(
      widget,
      { observedGeneration: 1, conditions: later },
      stored.status,
    );
    expect(again.changed).toBe(false);
    expect(counter.writes()).toEqual([]);
  });

  it("when a finalizer is added and removed, then other finalizers survive and a repeat is not a write", async () => {
    const ns = await namespace("kube-apply-finalizer");
    const { objects, counter } = adminClients();
    const applier = new Applier(objects);
    const read = () =>
      objects.read<V1ConfigMap>({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "router-config", namespace: ns },
      });
    const cm = configMap(ns, {});
    cm.metadata = { ...cm.metadata, finalizers: ["example.com/keep"] };
    await objects.create(cm);

    expect(await applier.addFinalizer(await read())).toBe(true);
    expect((await read()).metadata?.finalizers).toEqual(["example.com/keep", FINALIZER]);
    counter.reset();
    expect(await applier.addFinalizer(await read())).toBe(false);
    expect(counter.writes()).toEqual([]);

    const stale = await read();
    await objects.patch(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "router-config", namespace: ns },
        data: { x: "1" },
      },
      undefined,
      undefined,
      "someone-else",
      undefined,
      PatchStrategy.MergePatch,
    );
    // A stale copy must not overwrite the list: the resourceVersion precondition refuses it.
    await expect(applier.removeFinalizer(stale)).rejects.toMatchObject({ code: 409 });

    expect(await applier.removeFinalizer(await read())).toBe(true);
    expect((await read()).metadata?.finalizers).toEqual(["example.com/keep"]);
  });
});
