// The children of an index that moves to a new generation: both generations' shards, the router
// config's list shape, the backfill's plan ConfigMap and Job. Pure builders, no cluster.
import type { V1ConfigMap, V1Job, V1StatefulSet } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { backfillPlanJson } from "../../../src/builders/backfill-job.js";
import { indexChildren } from "../../../src/builders/index-children.js";
import type { IndexGenerations, IndexProps } from "../../../src/builders/index-props.js";
import { parsePlanText } from "../../../src/generation/plan.js";
import { parseRouterConfig } from "../../../src/router/config.js";
import { ctx, FINGERPRINT, index } from "./fixtures.js";

const NEXT = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const props = (spec = {}, extra: Partial<IndexProps> = {}): IndexProps => ({
  index: "docs",
  spec: index(spec).spec,
  model: "minilm",
  fingerprint: FINGERPRINT,
  dimension: 384,
  encoder: { revision: "aaaaaaaaaa" },
  ...extra,
});
const candidate = (over: Partial<NonNullable<IndexGenerations["candidate"]>> = {}) => ({
  fingerprint: NEXT,
  encoder: { revision: "bbbbbbbbbb" },
  inRouters: false,
  queryWeight: 0,
  ...over,
});
const build = (generations: IndexGenerations, spec = {}, extra: Partial<IndexProps> = {}) =>
  indexChildren(ctx("VectorIndex", "docs"), props(spec, extra), generations).present;
const named = (children: ReturnType<typeof build>, kind: string) =>
  children.filter((c) => c.kind === kind).map((c) => c.metadata?.name);
const routerJson = (children: ReturnType<typeof build>) =>
  JSON.parse(
    (children.find((c) => c.kind === "ConfigMap" && c.metadata?.name === "docs-router") as V1ConfigMap)
      .data?.["router.json"] ?? "{}",
  );

describe("VectorIndex children while it moves to a new generation", () => {
  it("when a candidate exists, then both generations have a StatefulSet and a headless Service per shard", () => {
    const children = build({ candidate: candidate() });
    expect(named(children, "StatefulSet")).toEqual([
      "docs-g-0123456789ab-shard-0",
      "docs-g-0123456789ab-shard-1",
      "docs-g-fedcba987654-shard-0",
      "docs-g-fedcba987654-shard-1",
    ]);
    expect(named(children, "Service")).toContain("docs-g-fedcba987654-shard-1");
  });

  it("when the candidate's shards run but it is not in the routers yet, then the router config has one generation", () => {
    const config = routerJson(build({ candidate: candidate() }));
    expect(config.generation).toBe("g-0123456789ab");
    expect(config.generations).toBeUndefined();
  });

  it("when the candidate is in the routers, then the config lists active and candidate, each with its own encoder and shards, and the router accepts it", () => {
    const config = routerJson(build({ candidate: candidate({ inRouters: true, queryWeight: 10 }) }));
    expect(config.generations).toEqual([
      {
        name: "g-0123456789ab",
        role: "active",
        fingerprint: FINGERPRINT,
        dimension: 384,
        metric: "cosine",
        encoder: { url: "http://minilm-encoder-aaaaaaaaaa.ns.svc:8080", revision: "aaaaaaaaaa" },
        shards: [
          {
            name: "shard-0",
            replicas: ["http://docs-g-0123456789ab-shard-0-0.docs-g-0123456789ab-shard-0.ns.svc:8080"],
          },
          {
            name: "shard-1",
            replicas: ["http://docs-g-0123456789ab-shard-1-0.docs-g-0123456789ab-shard-1.ns.svc:8080"],
          },
        ],
      },
      {
        name: "g-fedcba987654",
        role: "candidate",
        queryWeight: 10,
        fingerprint: NEXT,
        dimension: 384,
        metric: "cosine",
        encoder: { url: "http://minilm-encoder-bbbbbbbbbb.ns.svc:8080", revision: "bbbbbbbbbb" },
        shards: [
          {
            name: "shard-0",
            replicas: ["http://docs-g-fedcba987654-shard-0-0.docs-g-fedcba987654-shard-0.ns.svc:8080"],
          },
          {
            name: "shard-1",
            replicas: ["http://docs-g-fedcba987654-shard-1-0.docs-g-fedcba987654-shard-1.ns.svc:8080"],
          },
        ],
      },
    ]);
    const parsed = parseRouterConfig(config);
    expect(parsed.generation.name).toBe("g-0123456789ab");
    expect(parsed.candidate).toMatchObject({ name: "g-fedcba987654", queryWeight: 10 });
  });

  it("when spec.replicas went 1 -> 2 during the move, then N+1 keeps the 1 replica it was created with in its StatefulSets, the router config and the backfill plan, while the active generation gets 2", () => {
    const V1 = 1;
    const children = build(
      { candidate: candidate({ inRouters: true, replicas: V1 }), backfill: true },
      { replicas: 2 },
    );
    const sets = children.filter((c) => c.kind === "StatefulSet") as V1StatefulSet[];
    expect(sets.map((s) => [s.metadata?.name, s.spec?.replicas])).toEqual([
      ["docs-g-0123456789ab-shard-0", 2],
      ["docs-g-0123456789ab-shard-1", 2],
      ["docs-g-fedcba987654-shard-0", V1],
      ["docs-g-fedcba987654-shard-1", V1],
    ]);
    const config = routerJson(children);
    const counts = (config.generations as { shards: { replicas: string[] }[] }[]).map((g) =>
      g.shards.map((s) => s.replicas.length),
    );
    expect(counts).toEqual([
      [2, 2],
      [V1, V1],
    ]);
    const cm = children.find(
      (c) => c.kind === "ConfigMap" && c.metadata?.name === "docs-backfill-g-fedcba987654",
    ) as V1ConfigMap;
    const plan = parsePlanText(cm.data?.["plan.json"] ?? "", "plan");
    expect(plan.to.shards.map((s) => s.replicas.length)).toEqual([V1, V1]);
  });

  it("when a retained generation keeps its replica count, then its StatefulSets have it", () => {
    const children = build({ retained: [{ fingerprint: NEXT, replicas: 1 }] }, { replicas: 3 });
    const sets = children.filter((c) => c.kind === "StatefulSet") as V1StatefulSet[];
    expect(sets.map((s) => s.spec?.replicas)).toEqual([3, 3, 1, 1]);
  });

  it("when a generation is retained after a promotion, then its shards run and the routers do not name it", () => {
    const children = build({ retained: [{ fingerprint: NEXT }] });
    expect(named(children, "StatefulSet")).toContain("docs-g-fedcba987654-shard-0");
    expect(JSON.stringify(routerJson(children))).not.toContain("g-fedcba987654");
  });

  it("when no backfill is asked for, then there is no Job and no plan", () => {
    expect(named(build({ candidate: candidate({ inRouters: true }) }), "Job")).toEqual([]);
  });

  it("when the backfill runs, then its plan is in a ConfigMap the Job mounts, and `embedops backfill` accepts the plan", () => {
    const children = build({ candidate: candidate({ inRouters: true }), backfill: true }, { writeQuorum: 1 });
    const cm = children.find(
      (c) => c.kind === "ConfigMap" && c.metadata?.name === "docs-backfill-g-fedcba987654",
    ) as V1ConfigMap;
    const plan = parsePlanText(cm.data?.["plan.json"] ?? "", "plan");
    expect(plan).toMatchObject({
      index: "docs",
      from: { generation: "g-0123456789ab", fingerprint: FINGERPRINT },
      to: {
        generation: "g-fedcba987654",
        fingerprint: NEXT,
        encoder: { url: "http://minilm-encoder-bbbbbbbbbb.ns.svc:8080" },
      },
      writeQuorum: 1,
      maxDocumentsPerSecond: 200,
      latencyGuard: {
        metricsUrl: "http://minilm-encoder-aaaaaaaaaa.ns.svc:8080/metrics",
        revision: "aaaaaaaaaa",
        maxP99Ms: 500,
      },
    });
    expect(plan.to.shards.map((s) => s.replicas[0])).toEqual([
      "http://docs-g-fedcba987654-shard-0-0.docs-g-fedcba987654-shard-0.ns.svc:8080",
      "http://docs-g-fedcba987654-shard-1-0.docs-g-fedcba987654-shard-1.ns.svc:8080",
    ]);

    const job = children.find((c) => c.kind === "Job") as V1Job;
    expect(job.metadata?.name).toBe("docs-backfill-g-fedcba987654");
    const pod = job.spec?.template.spec;
    expect(pod?.restartPolicy).toBe("Never");
    expect(pod?.containers[0]?.image).toBe("ghcr.io/embedops/embedops:0.1.0");
    expect(pod?.containers[0]?.args).toEqual(["backfill", "--plan", "/etc/embedops/backfill/plan.json"]);
    expect(pod?.volumes?.find((v) => v.name === "plan")?.configMap?.name).toBe(cm.metadata?.name);
    expect(job.spec?.template.metadata?.labels).toMatchObject({
      "embedops.dev/index": "docs",
      "embedops.dev/generation": "g-fedcba987654",
      "embedops.dev/role": "backfill",
    });
    // A bad plan (2) or documents without text (3) fail the Job at once: a retry cannot help.
    expect(job.spec?.podFailurePolicy?.rules[0]).toMatchObject({
      action: "FailJob",
      onExitCodes: { operator: "In", values: [2, 3] },
    });
  });

  it("when the model's encoder wants a key, then the Job mounts it and passes --encoder-key-file", () => {
    const children = build(
      { candidate: candidate({ inRouters: true }), backfill: true },
      {},
      { encoderAuth: { name: "enc", key: "token" } },
    );
    const pod = (children.find((c) => c.kind === "Job") as V1Job).spec?.template.spec;
    expect(pod?.containers[0]?.args).toContain("--encoder-key-file");
    expect(pod?.volumes?.find((v) => v.name === "encoder-auth")?.secret).toMatchObject({
      secretName: "enc",
      items: [{ key: "token", path: "encoder-key" }],
    });
  });

  it("when the stable encoder revision is unknown, then the plan has no latency guard and names the model's Service", () => {
    const plan = backfillPlanJson(props({}, { encoder: undefined }), { fingerprint: NEXT }, "ns");
    expect(plan["latencyGuard"]).toBeUndefined();
    expect((plan["to"] as { encoder: unknown }).encoder).toEqual({
      url: "http://minilm-encoder.ns.svc:8080",
    });
  });

  it("when built twice, then the output is identical (a steady state applies nothing)", () => {
    const g = { candidate: candidate({ inRouters: true, queryWeight: 50 }), backfill: true };
    expect(JSON.stringify(build(g))).toBe(JSON.stringify(build(g)));
  });
});
