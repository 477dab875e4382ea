import { describe, expect, it } from "vitest";
import {
  RESTORE_FINGERPRINT_MISMATCH,
  RESTORE_SOURCE_NOT_READY,
  RESTORE_STORE_MISSING,
  type RestoreSource,
  restorePlan,
} from "../../../controllers/vector-index/restore-plan.js";
import type { SnapshotStore } from "../../../src/api/v1alpha1/index.js";
import { FINGERPRINT, index } from "../builders/fixtures.js";

const OTHER = "f".repeat(64);
const S3: SnapshotStore = {
  s3: { endpoint: "https://s3.example", bucket: "snaps", prefix: "", secretRef: { name: "s3-creds" } },
};
const PVC: SnapshotStore = { pvc: { claimName: "snapshots" } };
const restoring = index({ restore: { snapshotName: "nightly" } });
const succeeded: RestoreSource = {
  found: true,
  phase: "Succeeded",
  fingerprint: FINGERPRINT,
  vectors: 1200,
  fromIndex: "old-docs",
  fromIndexStore: S3,
};
const plan = (source: RestoreSource | undefined, vi = restoring, restoredFrom?: never) =>
  restorePlan({ namespace: "ns", spec: vi.spec, restoredFrom, fingerprint: FINGERPRINT, source });

describe("restorePlan", () => {
  it("when spec.restore is unset, then nothing is restored", () => {
    expect(plan(undefined, index())).toEqual({ kind: "none" });
  });

  it.each([
    ["the IndexSnapshot does not exist", { found: false }, /"nightly" in namespace ns not found/],
    [
      "it is Running",
      { ...succeeded, phase: "Running" },
      /is Running; the index is built once it is Succeeded/,
    ],
    ["it has no phase yet", { ...succeeded, phase: undefined }, /is not started/],
    ["it Failed", { ...succeeded, phase: "Failed" }, /it failed, so restore from another snapshot/],
    ["it is invalid", { found: true, invalid: "spec.indexRef: required" }, /is invalid: spec.indexRef/],
    ["it succeeded without a fingerprint", { ...succeeded, fingerprint: undefined }, /no fingerprint/],
  ])("when %s, then the index waits (RestoreSourceNotReady) saying so", (_c, source, message) => {
    const p = plan(source);
    expect(p).toMatchObject({ kind: "wait", reason: RESTORE_SOURCE_NOT_READY });
    expect(p.kind === "wait" && p.message).toMatch(message);
  });

  it("when the snapshot's fingerprint differs from the model's, then it is refused naming both", () => {
    const p = plan({ ...succeeded, fingerprint: OTHER });
    expect(p).toMatchObject({ kind: "refuse", reason: RESTORE_FINGERPRINT_MISMATCH });
    expect(p.kind === "refuse" && p.message).toContain(OTHER);
    expect(p.kind === "refuse" && p.message).toContain(FINGERPRINT);
  });

  it("when neither index sets a store, then the index waits saying to set spec.snapshot.store", () => {
    const p = plan({ ...succeeded, fromIndexStore: undefined });
    expect(p).toMatchObject({ kind: "wait", reason: RESTORE_STORE_MISSING });
    expect(p.kind === "wait" && p.message).toMatch(/set spec.snapshot.store/);
  });

  it("when the snapshot succeeded, then the source index's store fills the shards, pending until recorded", () => {
    expect(plan(succeeded)).toEqual({
      kind: "restore",
      pending: true,
      vectors: 1200,
      restore: { snapshot: "nightly", fromIndex: "old-docs", fingerprint: FINGERPRINT, store: S3 },
    });
  });

  it("when the restoring index has its own store, then that one is read", () => {
    const own = index({ restore: { snapshotName: "nightly" }, snapshot: { store: PVC } });
    expect(plan(succeeded, own)).toMatchObject({ kind: "restore", restore: { store: PVC } });
  });

  it("when the restore is recorded, then the snapshot is not read again and the init container stays", () => {
    const done = {
      snapshot: "nightly",
      fromIndex: "old-docs",
      fingerprint: FINGERPRINT,
      restoredAt: "2026-01-01T00:00:00Z",
    };
    const p = restorePlan({
      namespace: "ns",
      spec: restoring.spec,
      restoredFrom: done,
      fingerprint: OTHER, // the model moved on: the recorded restore still stands
      source: { found: true, fromIndex: "old-docs", fromIndexStore: S3 },
    });
    expect(p).toEqual({
      kind: "restore",
      pending: false,
      restore: { snapshot: "nightly", fromIndex: "old-docs", fingerprint: FINGERPRINT, store: S3 },
    });
    expect(
      restorePlan({
        namespace: "ns",
        spec: restoring.spec,
        restoredFrom: done,
        fingerprint: FINGERPRINT,
        source: { found: true },
      }),
    ).toEqual({ kind: "none" });
  });
});
