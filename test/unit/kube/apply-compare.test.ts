import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  APPLIED_HASH_ANNOTATION,
  appliedHash,
  isUpToDate,
  withAppliedHash,
} from "../../../src/kube/apply.js";

const desired = (data: Record<string, string>): KubernetesObject & { data: Record<string, string> } => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "router", namespace: "search", labels: { "app.kubernetes.io/name": "embedops" } },
  data,
});

/** What the API server returns after an apply: the applied object plus server-set fields. */
function stored(obj: KubernetesObject): KubernetesObject {
  const applied = withAppliedHash(obj);
  return {
    ...applied,
    metadata: { ...applied.metadata, uid: "u1", resourceVersion: "42", creationTimestamp: new Date(0) },
  };
}

describe("isUpToDate", () => {
  it("when the stored object came from the same desired object, then no write is needed", () => {
    expect(isUpToDate(desired({ a: "1" }), stored(desired({ a: "1" })))).toBe(true);
  });

  it("when nothing is stored yet, then a write is needed", () => {
    expect(isUpToDate(desired({ a: "1" }), undefined)).toBe(false);
  });

  it("when a desired value changed, then a write is needed", () => {
    expect(isUpToDate(desired({ a: "2" }), stored(desired({ a: "1" })))).toBe(false);
  });

  it("when the operator dropped a field it used to set, then a write is needed to remove it", () => {
    expect(isUpToDate(desired({ a: "1" }), stored(desired({ a: "1", b: "2" })))).toBe(false);
  });

  it("when someone edited a field the operator sets, then a write is needed to undo the drift", () => {
    const edited = stored(desired({ a: "1" })) as KubernetesObject & { data: Record<string, string> };
    edited.data = { a: "hand-edited" };
    expect(isUpToDate(desired({ a: "1" }), edited)).toBe(false);
  });

  it("when the stored object was applied by an older operator without the hash, then a write is needed", () => {
    const { [APPLIED_HASH_ANNOTATION]: _dropped, ...rest } =
      stored(desired({ a: "1" })).metadata?.annotations ?? {};
    const old = { ...stored(desired({ a: "1" })) };
    old.metadata = { ...old.metadata, annotations: rest };
    expect(isUpToDate(desired({ a: "1" }), old)).toBe(false);
  });
});

describe("appliedHash", () => {
  it("when keys are in another order, then the hash is the same", () => {
    expect(appliedHash(desired({ a: "1", b: "2" }))).toBe(appliedHash(desired({ b: "2", a: "1" })));
  });

  it("when the object already carries a hash, then re-hashing ignores it", () => {
    expect(appliedHash(withAppliedHash(desired({ a: "1" })))).toBe(appliedHash(desired({ a: "1" })));
  });
});
