import { describe, expect, it } from "vitest";
import { parseResources } from "../../../src/api/v1alpha1/index.js";
import { parsePlan } from "../../../src/generation/plan.js";
import {
  encoderFor,
  generationRouterConfig,
  localBackfillPlan,
  type ModelView,
  targetOf,
} from "../../../src/local/generation-routing.js";
import { type LocalIndex, planLocal } from "../../../src/local/plan.js";
import { parseRouterConfig } from "../../../src/router/config.js";

const F0 = "a".repeat(64);
const F1 = "b".repeat(64);
const N = { generation: "g-aaaaaaaaaaaa", fingerprint: F0 };
const N1 = { generation: "g-bbbbbbbbbbbb", fingerprint: F1 };

function index(rollout = ""): LocalIndex {
  const parsed = parseResources(`
apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata: { name: m }
spec: { source: { path: models/x }, dimension: 384, pooling: mean }
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata: { name: docs }
spec:
  modelRef: { name: m }
  shards: 2
  replicas: 1
${rollout}`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const planned = planLocal(parsed.value.resources, "/work");
  if (!planned.ok) throw new Error(planned.errors.join("; "));
  return planned.plan.indexes[0] as LocalIndex;
}

const stable = { url: "http://enc-stable", revision: "r1" };
const view: ModelView = {
  stable: { fingerprint: F0, routing: stable },
  held: {
    fingerprint: F1,
    revision: "r2",
    url: "http://enc-cand",
    routedUrl: "http://enc-cand",
    startedAt: "2026-12-02T10:00:00Z",
  },
};

describe("encoderFor and targetOf", () => {
  it.each([
    ["the stable fingerprint", F0, stable],
    ["the held candidate's fingerprint", F1, { url: "http://enc-cand", revision: "r2" }],
    ["a fingerprint no encoder has", "c".repeat(64), undefined],
  ])("when a generation has %s, then its encoder is the one with that fingerprint", (_w, fp, want) => {
    expect(encoderFor(fp, view)).toEqual(want);
  });

  it("when the held candidate does not run yet (after a restart), then its generation has no encoder, but it stays the target", () => {
    const { url: _u, routedUrl: _r, ...held } = view.held!;
    const notRunning: ModelView = { ...view, held };
    expect(encoderFor(F1, notRunning)).toBeUndefined();
    expect(targetOf(notRunning, (fp) => `g-${fp.slice(0, 12)}`)).toEqual(N1);
  });

  it("when nothing is held, then the target is the stable's generation; before any fingerprint, none", () => {
    expect(targetOf({ stable: view.stable! }, (fp) => `g-${fp.slice(0, 12)}`)).toEqual(N);
    expect(targetOf({}, (fp) => fp)).toBeUndefined();
  });
});

describe("generationRouterConfig", () => {
  const shards = (p: string) => [[`http://${p}-0`], [`http://${p}-1`]];

  it("when only the active generation runs, then the router config has one active generation", () => {
    const cfg = parseRouterConfig(
      generationRouterConfig(index(), { ref: N, shards: shards("n"), encoder: stable }),
    );
    expect(cfg.generation).toMatchObject({ name: N.generation, fingerprint: F0, role: "active" });
    expect(cfg.generation.shards.map((s) => s.replicas)).toEqual([["http://n-0"], ["http://n-1"]]);
    expect(cfg.candidate).toBeUndefined();
  });

  it("when N+1 is a candidate, then the router writes to both and sends it its share of queries, each with its own encoder", () => {
    const cfg = parseRouterConfig(
      generationRouterConfig(
        index(),
        { ref: N, shards: shards("n"), encoder: stable },
        {
          ref: N1,
          shards: shards("n1"),
          encoder: { url: "http://enc-cand", revision: "r2" },
          queryWeight: 30,
        },
      ),
    );
    expect(cfg.candidate).toMatchObject({
      name: N1.generation,
      fingerprint: F1,
      role: "candidate",
      queryWeight: 30,
    });
    expect(cfg.candidate?.encoder?.url).toBe("http://enc-cand");
    expect(cfg.generation.encoder?.url).toBe("http://enc-stable");
  });
});

describe("localBackfillPlan", () => {
  it("when the index has a p99 SLO, then the plan copies N into N+1 with the candidate encoder, capped and guarded", () => {
    const plan = parsePlan(
      localBackfillPlan(
        index("  rollout:\n    backfill: { maxDocumentsPerSecond: 50 }\n    slo: { maxP99LatencyMs: 250 }\n"),
        { ref: N, shards: [["http://n-0"], ["http://n-1"]] },
        { ref: N1, shards: [["http://n1-0"], ["http://n1-1"]], encoderUrl: "http://enc-cand" },
        { metricsUrl: "http://router/metrics", revision: "r1" },
      ),
    );
    expect(plan).toMatchObject({
      index: "docs",
      from: { generation: N.generation, fingerprint: F0 },
      to: { generation: N1.generation, fingerprint: F1, encoder: { url: "http://enc-cand" } },
      maxDocumentsPerSecond: 50,
      latencyGuard: { metricsUrl: "http://router/metrics", revision: "r1", maxP99Ms: 250 },
    });
    expect(plan.to.shards.map((s) => s.name)).toEqual(["shard-0", "shard-1"]);
  });
});
