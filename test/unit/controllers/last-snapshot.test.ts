import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { lastSnapshotOf } from "../../../controllers/vector-index/last-snapshot.js";
import { indexesOfSnapshot } from "../../../controllers/vector-index/last-snapshot-watch.js";

const snap = (name: string, index: string, phase?: string, completedAt?: string, namespace = "ns") =>
  ({
    metadata: { name, namespace },
    spec: { indexRef: { name: index } },
    ...(phase ? { status: { phase, ...(completedAt ? { completedAt } : {}) } } : {}),
  }) as KubernetesObject;

describe("lastSnapshotOf", () => {
  const all = [
    snap("a", "docs", "Succeeded", "2026-01-01T03:00:00Z"),
    snap("b", "docs", "Succeeded", "2026-01-02T03:00:00Z"),
    snap("c", "docs", "Failed", "2026-01-03T03:00:00Z"),
    snap("d", "docs", "Running"),
    snap("e", "faq", "Succeeded", "2026-01-04T03:00:00Z"),
    snap("f", "docs", "Succeeded", "2026-01-05T03:00:00Z", "other"),
    snap("g", "docs", "Succeeded", "not a time"),
  ];

  it("when several snapshots succeeded, then the newest of this index in its namespace is the last", () => {
    expect(lastSnapshotOf("ns", "docs", all)).toEqual({ name: "b", completedAt: "2026-01-02T03:00:00Z" });
    expect(lastSnapshotOf("ns", "docs", [...all].reverse())).toEqual({
      name: "b",
      completedAt: "2026-01-02T03:00:00Z",
    });
  });

  it("when none succeeded, then there is no last snapshot", () => {
    expect(lastSnapshotOf("ns", "docs", all.slice(2, 4))).toBeUndefined();
    expect(lastSnapshotOf("ns", "code", all)).toBeUndefined();
  });

  it("when two completed in the same second, then the later name wins whatever the list order", () => {
    const tie = [
      snap("x1", "docs", "Succeeded", "2026-01-01T00:00:00Z"),
      snap("x2", "docs", "Succeeded", "2026-01-01T00:00:00Z"),
    ];
    expect(lastSnapshotOf("ns", "docs", tie)?.name).toBe("x2");
    expect(lastSnapshotOf("ns", "docs", [...tie].reverse())?.name).toBe("x2");
  });
});

describe("indexesOfSnapshot", () => {
  const vi = (name: string, spec: unknown, namespace = "ns") =>
    ({ metadata: { name, namespace }, spec }) as KubernetesObject;
  const indexes = [
    vi("docs", { modelRef: { name: "m" } }),
    vi("restored", { modelRef: { name: "m" }, restore: { snapshotName: "nightly" } }),
    vi("unrelated", { modelRef: { name: "m" } }),
    vi("docs", { modelRef: { name: "m" } }, "other"),
  ];

  it("when a snapshot of docs named nightly changes, then docs and the index restoring from it reconcile", () => {
    expect(indexesOfSnapshot(snap("nightly", "docs"), indexes)).toEqual(["ns/docs", "ns/restored"]);
  });

  it("when a snapshot names no index nobody restores from, then nothing reconciles", () => {
    expect(indexesOfSnapshot(snap("weekly", "code"), indexes)).toEqual([]);
  });
});
