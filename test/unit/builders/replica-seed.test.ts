import type { V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { indexChildren } from "../../../src/builders/index-children.js";
import { routerConfigJson } from "../../../src/builders/router-config.js";
import { shardStatefulSet, withShardRestore } from "../../../src/builders/shard-statefulset.js";
import { generationName } from "../../../src/core/generation.js";
import { ctx, FINGERPRINT, index } from "./fixtures.js";

const vi = index({ replicas: 3 });
const props = {
  index: "docs",
  spec: vi.spec,
  model: "minilm",
  fingerprint: FINGERPRINT,
  dimension: 384,
};
const G = generationName(FINGERPRINT);
const set = (shard: string, replicas = 3) =>
  shardStatefulSet(ctx("VectorIndex", "docs"), { ...props, spec: { ...vi.spec, replicas }, shard });
const name = `docs-${G}-shard-1`;
const restore = {
  snapshot: "nightly",
  fromIndex: "old",
  fingerprint: FINGERPRINT,
  store: { pvc: { claimName: "s" } },
};
/** Everything but spec.replicas: what a scale must leave as it is. */
const withoutReplicas = (s: V1StatefulSet) => ({ ...s, spec: { ...s.spec, replicas: undefined } });

describe("shardStatefulSet: the seed init container", () => {
  it("when a shard StatefulSet is built, then its seed init container copies a lower ordinal through the headless Service", () => {
    const built = set("shard-1");
    const pod = built.spec?.template.spec;
    expect(built.metadata?.name).toBe(name);
    expect(pod?.initContainers?.map((c) => c.name)).toEqual(["seed"]);
    expect(pod?.initContainers?.[0]?.args).toEqual([
      ...["snapshot", "seed-replica", "--data-dir", "/data", "--fingerprint", FINGERPRINT],
      ...["--peer-template", `http://${name}-{ordinal}.${name}.ns.svc:8080`],
    ]);
    expect(pod?.initContainers?.[0]?.image).toBe(pod?.containers[0]?.image);
    expect(pod?.initContainers?.[0]?.securityContext).toEqual(pod?.containers[0]?.securityContext);
    expect(pod?.initContainers?.[0]?.volumeMounts?.map((m) => m.mountPath)).toEqual(["/data", "/tmp"]);
    // No partition: nothing in the template changes when replicas are added.
    expect(built.spec?.updateStrategy).toEqual({ type: "RollingUpdate" });
  });

  it("when spec.replicas goes 1 -> 2 -> 3, then only spec.replicas changes: the pod template is the same, so no serving pod rolls", () => {
    const [one, two, three] = [1, 2, 3].map((r) => set("shard-1", r)) as [
      V1StatefulSet,
      V1StatefulSet,
      V1StatefulSet,
    ];
    expect(two.spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(["seed"]);
    expect(two.spec?.template).toEqual(one.spec?.template);
    expect(three.spec?.template).toEqual(one.spec?.template);
    expect(withoutReplicas(two)).toEqual(withoutReplicas(one));
    expect([one, two, three].map((s) => s.spec?.replicas)).toEqual([1, 2, 3]);
  });

  it("when the generation is also restored, then the seed runs after the restore, in the same template at 1 and 2 replicas", () => {
    const restored = (replicas: number) => withShardRestore(set("shard-1", replicas), restore, 2);
    expect(restored(2).spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(["restore", "seed"]);
    expect(restored(2).spec?.template.spec?.initContainers?.[1]).toEqual(
      set("shard-1").spec?.template.spec?.initContainers?.[0],
    );
    expect(restored(2).spec?.template).toEqual(restored(1).spec?.template);
  });

  it("when the index moves to N+1, then N+1's StatefulSets seed too, from their own generation's peers with its fingerprint", () => {
    const next = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    const G1 = generationName(next);
    const sets = (replicas: number) =>
      indexChildren(
        ctx("VectorIndex", "docs"),
        { ...props, spec: { ...vi.spec, replicas } },
        { candidate: { fingerprint: next, inRouters: true, queryWeight: 0 } },
      ).present.filter((c): c is V1StatefulSet => c.kind === "StatefulSet");
    const candidate = sets(2).find((s) => s.metadata?.name === `docs-${G1}-shard-0`);
    expect(candidate?.spec?.template.spec?.initContainers?.[0]?.args).toEqual([
      ...["snapshot", "seed-replica", "--data-dir", "/data", "--fingerprint", next],
      ...["--peer-template", `http://docs-${G1}-shard-0-{ordinal}.docs-${G1}-shard-0.ns.svc:8080`],
    ]);
    expect(sets(2).map((s) => s.metadata?.name)).toEqual(sets(1).map((s) => s.metadata?.name));
    expect(sets(2).map((s) => s.spec?.template)).toEqual(sets(1).map((s) => s.spec?.template));
    expect(sets(2).every((s) => s.spec?.template.spec?.initContainers?.[0]?.name === "seed")).toBe(true);
  });
});

describe("routerConfigJson: syncing replicas", () => {
  const shardsOf = (c: Record<string, unknown>) =>
    c["shards"] as { name: string; replicas: string[]; syncing?: string[] }[];
  const url = (shard: string, r: number) => `http://docs-${G}-${shard}-${r}.docs-${G}-${shard}.ns.svc:8080`;

  it("when nothing seeds, then no shard has a syncing list", () => {
    expect(shardsOf(routerConfigJson(props, "ns")).map((s) => s.syncing)).toEqual([undefined, undefined]);
  });

  it("when replica 1 and 2 of shard-1 seed, then shard-1 lists them as syncing beside every replica", () => {
    const syncing = { generation: G, replicas: new Map([["shard-1", [1, 2]]]) };
    const shards = shardsOf(routerConfigJson({ ...props, syncing }, "ns"));
    expect(shards[0]).toEqual({ name: "shard-0", replicas: [0, 1, 2].map((r) => url("shard-0", r)) });
    expect(shards[1]).toEqual({
      name: "shard-1",
      replicas: [0, 1, 2].map((r) => url("shard-1", r)),
      syncing: [url("shard-1", 1), url("shard-1", 2)],
    });
  });

  it("when the syncing list names another generation, then it is ignored", () => {
    const syncing = { generation: "g-other", replicas: new Map([["shard-1", [1]]]) };
    expect(shardsOf(routerConfigJson({ ...props, syncing }, "ns")).map((s) => s.syncing)).toEqual([
      undefined,
      undefined,
    ]);
  });
});
