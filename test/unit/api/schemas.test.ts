import { describe, expect, it } from "vitest";
import {
  EmbeddingModel,
  formatResourceError,
  IndexSnapshot,
  parseResource,
  VectorIndex,
} from "../../../src/api/v1alpha1/index.js";
import { index, model, s3Store, snapshot } from "./fixtures.js";

function errorsOf(obj: unknown): string[] {
  const r = parseResource(obj);
  return r.ok ? [] : r.errors.map(formatResourceError);
}

describe("defaults", () => {
  it("when an EmbeddingModel sets only the required fields, then every default is applied", () => {
    const m = EmbeddingModel.parse(model());
    expect(m.spec).toEqual({
      source: { path: "models/all-minilm-l6-v2" },
      dimension: 384,
      pooling: "mean",
      normalize: true,
      maxSequenceLength: 256,
      queryPrefix: "",
      documentPrefix: "",
      runtime: {
        replicas: 1,
        threads: 2,
        maxBatchTokens: 16384,
        maxBatchRequests: 32,
        maxConcurrentRequests: 512,
      },
      rollout: {
        analysisIntervalSeconds: 60,
        stepWeights: [10, 50],
        maxFailedChecks: 1,
        slo: { maxP99LatencyMs: 500, maxErrorRate: 0.01, minRequests: 20 },
      },
    });
  });

  it("when a VectorIndex sets only modelRef, then every default is applied", () => {
    const vi = VectorIndex.parse(index());
    expect(vi.spec).toMatchObject({
      metric: "cosine",
      shards: 1,
      replicas: 1,
      hnsw: { m: 16, efConstruction: 200, efSearch: 64 },
      storage: { size: "10Gi" },
      router: { replicas: 1, timeoutMs: 2000 },
      rollout: {
        analysisIntervalSeconds: 60,
        stepWeights: [10, 50],
        backfill: { maxDocumentsPerSecond: 200 },
      },
    });
    expect(vi.spec.writeQuorum).toBeUndefined();
    expect(vi.spec.snapshot).toBeUndefined();
  });

  it("when nested objects are partly set, then their missing fields still get defaults", () => {
    const vi = VectorIndex.parse(
      index({ hnsw: { m: 32 }, snapshot: { store: s3Store }, quality: qualityOf() }),
    );
    expect(vi.spec.hnsw).toEqual({ m: 32, efConstruction: 200, efSearch: 64 });
    expect(vi.spec.snapshot?.retain).toBe(7);
    expect(vi.spec.snapshot?.store.s3?.prefix).toBe("");
    expect(vi.spec.quality).toMatchObject({ k: 10, minRecall: 0.9 });
  });

  it("when autoscaling sets only maxReplicas, then minReplicas and the CPU target default", () => {
    const m = EmbeddingModel.parse(model({ runtime: { autoscaling: { maxReplicas: 4 } } }));
    expect(m.spec.runtime.autoscaling).toEqual({
      minReplicas: 1,
      maxReplicas: 4,
      targetCPUUtilizationPercentage: 70,
    });
  });

  it("when an IndexSnapshot names only its index, then it parses", () => {
    expect(IndexSnapshot.parse(snapshot()).spec).toEqual({ indexRef: { name: "docs" } });
  });

  it("when quantities are written as numbers or strings, then both are accepted as Kubernetes does", () => {
    const m = EmbeddingModel.parse(
      model({ runtime: { resources: { requests: { cpu: 2, memory: "1Gi" }, limits: { cpu: "500m" } } } }),
    );
    expect(m.spec.runtime.resources?.requests).toEqual({ cpu: 2, memory: "1Gi" });
  });
});

function qualityOf(extra: Record<string, unknown> = {}) {
  return { goldenSet: { configMapRef: { name: "golden", key: "golden.jsonl" } }, ...extra };
}

// [case, resource, the error the user must see]
const invalid: [string, unknown, string][] = [
  ["shards 0", index({ shards: 0 }), 'VectorIndex "docs": spec.shards: must be >= 1'],
  ["shards 65", index({ shards: 65 }), "spec.shards: must be <= 64"],
  ["shards not an integer", index({ shards: 1.5 }), "spec.shards: must be an integer, got number 1.5"],
  ["replicas 6", index({ replicas: 6 }), "spec.replicas: must be <= 5"],
  ["unknown metric", index({ metric: "hamming" }), 'spec.metric: must be one of "cosine", "l2", "ip"'],
  ["typo in a field name", index({ shard: 2 }), 'spec.shard: unknown field; did you mean "shards"?'],
  [
    "unknown nested field",
    index({ hnsw: { ef: 10 } }),
    "spec.hnsw.ef: unknown field (known fields: m, efConstruction, efSearch)",
  ],
  ["missing modelRef", { ...index(), spec: {} }, "spec.modelRef: required field is missing"],
  ["efSearch 0", index({ hnsw: { efSearch: 0 } }), "spec.hnsw.efSearch: must be >= 1"],
  [
    "writeQuorum above replicas",
    index({ replicas: 2, writeQuorum: 3 }),
    "spec.writeQuorum: spec.writeQuorum must be <= spec.replicas",
  ],
  [
    "retain 0 with a schedule",
    index({ snapshot: { schedule: "0 3 * * *", retain: 0, store: s3Store } }),
    "spec.snapshot.retain: snapshot.retain must be >= 1 when snapshot.schedule is set",
  ],
  [
    "two snapshot stores",
    index({ snapshot: { store: { ...s3Store, pvc: { claimName: "x" } } } }),
    "spec.snapshot.store: snapshot.store must set exactly one of pvc or s3",
  ],
  [
    "bad cron",
    index({ snapshot: { schedule: "nightly", store: s3Store } }),
    "spec.snapshot.schedule: must be a cron schedule",
  ],
  [
    "minRecall above 1",
    index({ quality: qualityOf({ minRecall: 1.5 }) }),
    "spec.quality.minRecall: must be <= 1",
  ],
  [
    "steps not increasing",
    index({ rollout: { stepWeights: [50, 10] } }),
    "spec.rollout.stepWeights: stepWeights must be strictly increasing",
  ],
  [
    "step weight 100",
    index({ rollout: { stepWeights: [10, 100] } }),
    "spec.rollout.stepWeights[1]: must be <= 99",
  ],
  [
    "analysis interval 5 s",
    index({ rollout: { analysisIntervalSeconds: 5 } }),
    "spec.rollout.analysisIntervalSeconds: must be >= 10",
  ],
  [
    "bad storage size",
    index({ storage: { size: "ten gigs" } }),
    "spec.storage.size: must be a Kubernetes quantity",
  ],
  [
    "uppercase modelRef",
    index({ modelRef: { name: "MiniLM" } }),
    "spec.modelRef.name: must be a lowercase RFC 1223 label".replace("1223", "1123"),
  ],
  ["name too long", index({}, "a".repeat(41)), "metadata.name: must be at most 40 characters"],
  ["no model source", model({ source: {} }), "spec.source: source must set exactly one of path, pvc or http"],
  [
    "two model sources",
    model({ source: { path: "m", pvc: { claimName: "models" } } }),
    "source must set exactly one of path, pvc or http",
  ],
  [
    "http source without sha256",
    model({ source: { http: { url: "https://x/m.tar.gz" } } }),
    "spec.source.http.sha256: required field is missing",
  ],
  [
    "bad sha256",
    model({ source: { path: "m", sha256: "abc" } }),
    "spec.source.sha256: must be 64 lowercase hex characters",
  ],
  [
    "pvc path escaping the volume",
    model({ source: { pvc: { claimName: "m", path: "../etc" } } }),
    "spec.source.pvc.path: path must be relative",
  ],
  ["dimension 0", model({ dimension: 0 }), 'EmbeddingModel "minilm": spec.dimension: must be >= 1'],
  ["dimension 9000", model({ dimension: 9000 }), "spec.dimension: must be <= 8192"],
  [
    "pooling missing",
    { ...model(), spec: { source: { path: "m" }, dimension: 3 } },
    "spec.pooling: required field is missing",
  ],
  ["pooling max", model({ pooling: "max" }), 'spec.pooling: must be one of "mean", "cls"'],
  [
    "autoscaling min above max",
    model({ runtime: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } }),
    "spec.runtime.autoscaling.minReplicas: autoscaling.minReplicas must be <= autoscaling.maxReplicas",
  ],
  ["threads 0", model({ runtime: { threads: 0 } }), "spec.runtime.threads: must be >= 1"],
  [
    "normalize as a string",
    model({ normalize: "yes" }),
    'spec.normalize: must be of type boolean, got the string "yes"',
  ],
  [
    "unknown top-level field",
    { ...model(), extra: 1 },
    'document 1: EmbeddingModel "minilm": extra: unknown field',
  ],
  [
    "wrong apiVersion",
    { ...model(), apiVersion: "embedops.dev/v1" },
    'apiVersion: must be "embedops.dev/v1alpha1", got "embedops.dev/v1"',
  ],
  [
    "unknown kind",
    { ...model(), kind: "Encoder" },
    'kind: must be one of EmbeddingModel, VectorIndex, IndexSnapshot, got "Encoder"',
  ],
  ["snapshot without index", { ...snapshot(), spec: {} }, "spec.indexRef: required field is missing"],
];

describe("invalid resources", () => {
  it.each(invalid)("when %s, then the error names the field", (_case, obj, expected) => {
    const errors = errorsOf(obj);
    expect(errors.join("\n")).toContain(expected);
  });

  it("when a document has several problems, then each is reported", () => {
    const errors = errorsOf(index({ shards: 0, replicas: 9, metric: "x" }));
    expect(errors).toHaveLength(3);
  });
});
