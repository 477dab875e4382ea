import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { controllerReference, ownerKeyOf } from "../../../src/kube/owner.js";

const VECTOR_INDEX = { group: "embedops.dev", kind: "VectorIndex" };

function child(
  ownerReferences: NonNullable<KubernetesObject["metadata"]>["ownerReferences"],
): KubernetesObject {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "docs-g1-s0", namespace: "search", ownerReferences },
  };
}

describe("ownerKeyOf", () => {
  const ref = {
    apiVersion: "embedops.dev/v1alpha1",
    kind: "VectorIndex",
    name: "docs",
    uid: "u1",
    controller: true,
  };
  const cases: Array<{ when: string; obj: KubernetesObject; key: string | undefined }> = [
    { when: "the child is controlled by a VectorIndex", obj: child([ref]), key: "search/docs" },
    {
      when: "the owner is another version of our group",
      obj: child([{ ...ref, apiVersion: "embedops.dev/v1beta1" }]),
      key: "search/docs",
    },
    { when: "the child has no owner references", obj: child(undefined), key: undefined },
    {
      when: "the reference is not the controller",
      obj: child([{ ...ref, controller: false }]),
      key: undefined,
    },
    {
      when: "the controller is another kind of ours",
      obj: child([{ ...ref, kind: "EmbeddingModel" }]),
      key: undefined,
    },
    {
      when: "the controller is a same-named kind in another group",
      obj: child([{ ...ref, apiVersion: "example.com/v1" }]),
      key: undefined,
    },
    {
      when: "a foreign owner comes first and ours second",
      obj: child([{ apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "u2" }, ref]),
      key: "search/docs",
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then the key is ${c.key ?? "undefined"}`, () => {
      expect(ownerKeyOf(c.obj, VECTOR_INDEX)).toBe(c.key);
    });
  }
});

describe("controllerReference", () => {
  it("when the owner was read from the API server, then the reference controls and blocks deletion", () => {
    const owner = {
      apiVersion: "embedops.dev/v1alpha1",
      kind: "VectorIndex",
      metadata: { name: "docs", uid: "u1" },
    };
    expect(controllerReference(owner)).toEqual({
      apiVersion: "embedops.dev/v1alpha1",
      kind: "VectorIndex",
      name: "docs",
      uid: "u1",
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it("when the owner has no uid, then the error says to pass the stored object", () => {
    const owner = { apiVersion: "embedops.dev/v1alpha1", kind: "VectorIndex", metadata: { name: "docs" } };
    expect(() => controllerReference(owner)).toThrow(/uid=missing.*as read from the API server/);
  });
});
