import type { V1ConfigMap, V1NetworkPolicy, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { indexChildren } from "../../../src/builders/index-children.js";
import type { IndexProps } from "../../../src/builders/index-props.js";
import { parseRouterConfig } from "../../../src/router/config.js";
import { ctx, FINGERPRINT, index } from "./fixtures.js";

const props = (spec = {}): IndexProps => ({
  index: "docs",
  spec: index(spec).spec,
  model: "minilm",
  fingerprint: FINGERPRINT,
  dimension: 384,
});
const build = (spec = {}) => indexChildren(ctx("VectorIndex", "docs"), props(spec)).present;
const ofKind = <T>(kind: string, spec = {}) => build(spec).filter((c) => c.kind === kind) as T[];

describe("VectorIndex children", () => {
  it("when a 2-shard index is built, then the children match the snapshot", () => {
    expect(build()).toMatchSnapshot();
  });

  it("when built, then there is a StatefulSet and a headless Service per shard, named <index>-<generation>-<shard>", () => {
    const names = (kind: string) =>
      build()
        .filter((c) => c.kind === kind)
        .map((c) => c.metadata?.name);
    expect(names("StatefulSet")).toEqual(["docs-g-0123456789ab-shard-0", "docs-g-0123456789ab-shard-1"]);
    expect(names("Service")).toEqual([
      "docs-g-0123456789ab-shard-0",
      "docs-g-0123456789ab-shard-1",
      "docs-router",
    ]);
    expect(names("Deployment")).toEqual(["docs-router"]);
  });

  it("when built, then shard pods carry index, generation, shard and role labels", () => {
    const sts = ofKind<V1StatefulSet>("StatefulSet")[1];
    expect(sts?.spec?.template.metadata?.labels).toMatchObject({
      "embedops.dev/index": "docs",
      "embedops.dev/generation": "g-0123456789ab",
      "embedops.dev/shard": "shard-1",
      "embedops.dev/role": "shard",
    });
  });

  it("when replicas and storage are set, then the StatefulSet has them, with anti-affinity per shard", () => {
    const sts = ofKind<V1StatefulSet>("StatefulSet", {
      replicas: 3,
      storage: { size: "5Gi", storageClassName: "fast" },
    })[0];
    expect(sts?.spec?.replicas).toBe(3);
    expect(sts?.spec?.volumeClaimTemplates?.[0]?.spec).toMatchObject({
      resources: { requests: { storage: "5Gi" } },
      storageClassName: "fast",
    });
    const term =
      sts?.spec?.template.spec?.affinity?.podAntiAffinity
        ?.preferredDuringSchedulingIgnoredDuringExecution?.[0];
    expect(term?.podAffinityTerm.topologyKey).toBe("kubernetes.io/hostname");
    expect(term?.podAffinityTerm.labelSelector?.matchLabels?.["embedops.dev/shard"]).toBe("shard-0");
  });

  it("when storage.retainOnDelete is left unset, then deleting the StatefulSet deletes its claims; when true, they are kept", () => {
    const policy = (storage?: object) =>
      ofKind<V1StatefulSet>("StatefulSet", storage ? { storage } : {})[0]?.spec
        ?.persistentVolumeClaimRetentionPolicy;
    expect(policy()).toEqual({ whenDeleted: "Delete", whenScaled: "Retain" });
    expect(policy({ retainOnDelete: true })).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
  });

  it("when built, then the router config is valid for the router and lists every replica by StatefulSet DNS", () => {
    const cm = ofKind<V1ConfigMap>("ConfigMap", { replicas: 2 })[0];
    const config = parseRouterConfig(JSON.parse(cm?.data?.["router.json"] ?? "null"));
    expect(config.generation.name).toBe("g-0123456789ab");
    expect(config.generation.encoder?.url).toBe("http://minilm-encoder.ns.svc:8080");
    expect(config.generation.shards[1]?.replicas).toEqual([
      "http://docs-g-0123456789ab-shard-1-0.docs-g-0123456789ab-shard-1.ns.svc:8080",
      "http://docs-g-0123456789ab-shard-1-1.docs-g-0123456789ab-shard-1.ns.svc:8080",
    ]);
  });

  it("when built, then the shard args carry the fingerprint, dimension and HNSW parameters", () => {
    const args =
      ofKind<V1StatefulSet>("StatefulSet", { hnsw: { m: 32 } })[0]?.spec?.template.spec?.containers[0]
        ?.args ?? [];
    const flagValue = (flag: string) => args[args.indexOf(flag) + 1];
    expect([
      flagValue("--fingerprint"),
      flagValue("--dimension"),
      flagValue("--m"),
      flagValue("--shard-id"),
    ]).toEqual([FINGERPRINT, "384", "32", "docs/g-0123456789ab/shard-0"]);
  });

  it("when built, then only the index's router, backfill, snapshot and other shard pods and the operator may reach its shard pods", () => {
    const np = ofKind<V1NetworkPolicy>("NetworkPolicy")[0];
    expect(np?.spec?.podSelector.matchLabels).toEqual({
      "embedops.dev/index": "docs",
      "embedops.dev/role": "shard",
    });
    expect(np?.spec?.ingress?.[0]?._from).toEqual([
      { podSelector: { matchLabels: { "embedops.dev/index": "docs", "embedops.dev/role": "router" } } },
      { podSelector: { matchLabels: { "embedops.dev/index": "docs", "embedops.dev/role": "backfill" } } },
      { podSelector: { matchLabels: { "embedops.dev/index": "docs", "embedops.dev/role": "snapshot" } } },
      // A new replica seeds from, and catches up with, a peer of its shard.
      { podSelector: { matchLabels: { "embedops.dev/index": "docs", "embedops.dev/role": "shard" } } },
      {
        namespaceSelector: {},
        podSelector: {
          matchLabels: { "app.kubernetes.io/name": "embedops", "app.kubernetes.io/component": "operator" },
        },
      },
    ]);
  });

  it("when built twice, then the output is identical", () => {
    expect(JSON.stringify(build())).toBe(JSON.stringify(build()));
  });

  it.each([
    ["no revision known", undefined, { url: "http://minilm-encoder.ns.svc:8080" }],
    [
      "a stable revision alone",
      { revision: "aaaaaaaaaa" },
      { url: "http://minilm-encoder-aaaaaaaaaa.ns.svc:8080", revision: "aaaaaaaaaa" },
    ],
    [
      "a canary at weight 0 (initializing, failed, held)",
      { revision: "aaaaaaaaaa", canary: { revision: "bbbbbbbbbb", weight: 0 } },
      { url: "http://minilm-encoder-aaaaaaaaaa.ns.svc:8080", revision: "aaaaaaaaaa" },
    ],
    [
      "a canary at weight 10",
      { revision: "aaaaaaaaaa", canary: { revision: "bbbbbbbbbb", weight: 10 } },
      {
        url: "http://minilm-encoder-aaaaaaaaaa.ns.svc:8080",
        revision: "aaaaaaaaaa",
        canary: { url: "http://minilm-encoder-bbbbbbbbbb.ns.svc:8080", revision: "bbbbbbbbbb", weight: 10 },
      },
    ],
  ])("when the model has %s, then the router's encoder config follows it", (_c, encoder, expected) => {
    const cm = indexChildren(ctx("VectorIndex", "docs"), { ...props(), encoder }).present.find(
      (c) => c.kind === "ConfigMap",
    ) as V1ConfigMap;
    const config = parseRouterConfig(JSON.parse(cm.data?.["router.json"] ?? "null"));
    expect(config.generation.encoder).toEqual(expected);
  });
});
