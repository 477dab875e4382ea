import { describe, expect, it } from "vitest";
import { routerConfigJson } from "../../../src/builders/router-config.js";
import {
  shardStatefulSet,
  withReplicaSeed,
  withShardRestore,
} from "../../../src/builders/shard-statefulset.js";
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
const set = (shard: string) => shardStatefulSet(ctx("VectorIndex", "docs"), { ...props, shard });
const name = `docs-${G}-shard-1`;

describe("withReplicaSeed", () => {
  it("when a shard StatefulSet seeds, then its init container copies a lower ordinal through the headless Service and the main container is unchanged", () => {
    const seeded = withReplicaSeed(set("shard-1"), { fingerprint: FINGERPRINT, namespace: "ns" });
    const pod = seeded.spec?.template.spec;
    expect(seeded.metadata?.name).toBe(name);
    expect(pod?.initContainers?.map((c) => c.name)).toEqual(["seed"]);
    expect(pod?.initContainers?.[0]?.args).toEqual([
      ...["snapshot", "seed-replica", "--data-dir", "/data", "--fingerprint", FINGERPRINT],
      ...["--peer-template", `http://${name}-{ordinal}.${name}.ns.svc:8080`],
    ]);
    expect(pod?.initContainers?.[0]?.image).toBe(pod?.containers[0]?.image);
    expect(pod?.initContainers?.[0]?.volumeMounts?.map((m) => m.mountPath)).toEqual(["/data", "/tmp"]);
    expect(pod?.containers).toEqual(set("shard-1").spec?.template.spec?.containers);
    expect(seeded.spec?.updateStrategy).toEqual({ type: "RollingUpdate" });
  });

  it("when new replicas seed above 1 serving one, then the rolling update keeps ordinal 0 on its revision", () => {
    const seeded = withReplicaSeed(set("shard-0"), {
      fingerprint: FINGERPRINT,
      namespace: "ns",
      partition: 1,
    });
    expect(seeded.spec?.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 1 } });
    expect(seeded.spec?.replicas).toBe(3);
  });

  it("when the generation is also restored, then the seed runs after the restore", () => {
    const restored = withShardRestore(
      set("shard-1"),
      { snapshot: "nightly", fromIndex: "old", fingerprint: FINGERPRINT, store: { pvc: { claimName: "s" } } },
      2,
    );
    const seeded = withReplicaSeed(restored, { fingerprint: FINGERPRINT, namespace: "ns" });
    expect(seeded.spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(["restore", "seed"]);
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
