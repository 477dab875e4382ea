import { describe, expect, it } from "vitest";
import {
  EmbeddingModel,
  formatResourceError,
  IndexSnapshot,
  parseResource,
  VectorIndex,
} from "../../../src/api/v1alpha1/index.js";
import { index, model, s3Store, snapshot } from "./fixtures.js";
import { INVALID } from "./invalid-cases.js";

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
        maxInconclusiveChecks: 3,
        progressDeadlineSeconds: 600,
        slo: { maxP99LatencyMs: 500, maxErrorRate: 0.01, minRequests: 20 },
        probe: { requests: 30 },
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
        retainPrevious: "1h",
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

describe("invalid resources", () => {
  it.each(INVALID)("when $when, then the error names $path", ({ resource, path, message }) => {
    const kind = String(resource["kind"]);
    const name = String((resource["metadata"] as { name: string }).name);
    const who =
      kind === "EmbeddingModel" || kind === "VectorIndex" || kind === "IndexSnapshot"
        ? `${kind} "${name}": `
        : "";
    expect(errorsOf(resource).join("\n")).toContain(`${who}${path}: ${message}`);
  });

  it("when a document has several problems, then each is reported", () => {
    const errors = errorsOf(index({ shards: 0, replicas: 9, metric: "x" }));
    expect(errors).toHaveLength(3);
  });
});
