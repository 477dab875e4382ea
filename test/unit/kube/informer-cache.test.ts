import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { diffRelist } from "../../../src/kube/informer-cache.js";

const cm = (name: string, rv: string): KubernetesObject => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});
const names = (objs: KubernetesObject[]) => objs.map((o) => o.metadata?.name);

describe("diffRelist", () => {
  it("when the cache is empty, then every listed object is an add", () => {
    const diff = diffRelist(new Map(), [cm("a", "1"), cm("b", "2")]);
    expect(names(diff.added)).toEqual(["a", "b"]);
    expect(diff.updated).toEqual([]);
    expect(diff.deleted).toEqual([]);
  });

  it("when objects changed, vanished and appeared while the watch was down, then each is reported once", () => {
    const cache = new Map([
      ["ns/same", cm("same", "1")],
      ["ns/changed", cm("changed", "1")],
      ["ns/gone", cm("gone", "1")],
    ]);
    const diff = diffRelist(cache, [cm("same", "1"), cm("changed", "7"), cm("new", "8")]);
    expect(names(diff.added)).toEqual(["new"]);
    expect(
      diff.updated.map((u) => [u.obj.metadata?.resourceVersion, u.old.metadata?.resourceVersion]),
    ).toEqual([["7", "1"]]);
    expect(names(diff.deleted)).toEqual(["gone"]);
  });
});
