// Resources both validators must refuse: the zod schemas (embedops serve) and the generated CRD
// (the API server). Unit tests check zod's message; the integration test checks the server's.
import { index, model, s3Store, snapshot } from "./fixtures.js";

export interface InvalidCase {
  readonly when: string;
  readonly resource: Record<string, unknown>;
  /** Field path both validators must name. */
  readonly path: string;
  /** zod's message for it. */
  readonly message: string;
  /** What the server's error must contain, when it does not name `path` (e.g. an unknown kind). */
  readonly server?: string;
}

const golden = { goldenSet: { configMapRef: { name: "golden", key: "golden.jsonl" } } };

export const INVALID: readonly InvalidCase[] = [
  {
    when: "shards is 0",
    resource: index({ shards: 0 }),
    path: "spec.shards",
    message: "must be >= 1, got 0",
  },
  { when: "shards is 65", resource: index({ shards: 65 }), path: "spec.shards", message: "must be <= 64" },
  {
    when: "shards is 1.5",
    resource: index({ shards: 1.5 }),
    path: "spec.shards",
    message: "must be an integer",
  },
  { when: "replicas is 6", resource: index({ replicas: 6 }), path: "spec.replicas", message: "must be <= 5" },
  {
    when: "the metric is unknown",
    resource: index({ metric: "hamming" }),
    path: "spec.metric",
    message: 'must be one of "cosine", "l2", "ip"',
  },
  {
    when: "a field name has a typo",
    resource: index({ shard: 2 }),
    path: "spec.shard",
    message: 'unknown field; did you mean "shards"?',
  },
  {
    when: "a nested field is unknown",
    resource: index({ hnsw: { ef: 10 } }),
    path: "spec.hnsw.ef",
    message: "unknown field (known fields: m, efConstruction, efSearch)",
  },
  {
    when: "modelRef is missing",
    resource: { ...index(), spec: {} },
    path: "spec.modelRef",
    message: "required field is missing",
  },
  {
    when: "efSearch is 0",
    resource: index({ hnsw: { efSearch: 0 } }),
    path: "spec.hnsw.efSearch",
    message: "must be >= 1",
  },
  {
    when: "writeQuorum exceeds replicas",
    resource: index({ replicas: 2, writeQuorum: 3 }),
    path: "spec.writeQuorum",
    message: "spec.writeQuorum must be <= spec.replicas",
  },
  {
    when: "retain is 0 with a schedule",
    resource: index({ snapshot: { schedule: "0 3 * * *", retain: 0, store: s3Store } }),
    path: "spec.snapshot.retain",
    message: "snapshot.retain must be >= 1 when snapshot.schedule is set",
  },
  {
    when: "the snapshot store has both pvc and s3",
    resource: index({ snapshot: { store: { ...s3Store, pvc: { claimName: "x" } } } }),
    path: "spec.snapshot.store",
    message: "snapshot.store must set exactly one of pvc or s3",
  },
  {
    when: "the cron schedule is not one",
    resource: index({ snapshot: { schedule: "nightly", store: s3Store } }),
    path: "spec.snapshot.schedule",
    message: "must be a cron schedule",
  },
  {
    when: "minRecall is above 1",
    resource: index({ quality: { ...golden, minRecall: 1.5 } }),
    path: "spec.quality.minRecall",
    message: "must be <= 1",
  },
  {
    when: "step weights decrease",
    resource: index({ rollout: { stepWeights: [50, 10] } }),
    path: "spec.rollout.stepWeights",
    message: "stepWeights must be strictly increasing",
  },
  {
    when: "a step weight is 100",
    resource: index({ rollout: { stepWeights: [10, 100] } }),
    path: "spec.rollout.stepWeights[1]",
    message: "must be <= 99",
  },
  {
    when: "the analysis interval is 5 s",
    resource: index({ rollout: { analysisIntervalSeconds: 5 } }),
    path: "spec.rollout.analysisIntervalSeconds",
    message: "must be >= 10",
  },
  {
    when: "retainPrevious is not a duration",
    resource: index({ rollout: { retainPrevious: "1 hour" } }),
    path: "spec.rollout.retainPrevious",
    message: 'must be a duration such as "1h", "30m", "90s"',
  },
  {
    when: "the storage size is not a quantity",
    resource: index({ storage: { size: "ten gigs" } }),
    path: "spec.storage.size",
    message: "must be a Kubernetes quantity",
  },
  {
    when: "modelRef has upper case",
    resource: index({ modelRef: { name: "MiniLM" } }),
    path: "spec.modelRef.name",
    message: "must be a lowercase RFC 1123 label",
  },
  {
    when: "the index name is longer than 40 characters",
    resource: index({}, "a".repeat(41)),
    path: "metadata.name",
    message: "must be at most 40 characters",
  },
  {
    when: "the model has no source",
    resource: model({ source: {} }),
    path: "spec.source",
    message: "source must set exactly one of path, pvc or http",
  },
  {
    when: "the model has two sources",
    resource: model({ source: { path: "m", pvc: { claimName: "models" } } }),
    path: "spec.source",
    message: "source must set exactly one of path, pvc or http",
  },
  {
    when: "an http source has no sha256",
    resource: model({ source: { http: { url: "https://x/m.tar.gz" } } }),
    path: "spec.source.http.sha256",
    message: "required field is missing",
  },
  {
    when: "a sha256 is not one",
    resource: model({ source: { path: "m", sha256: "abc" } }),
    path: "spec.source.sha256",
    message: "must be 64 lowercase hex characters",
  },
  {
    when: "a pvc path escapes the volume",
    resource: model({ source: { pvc: { claimName: "m", path: "../etc" } } }),
    path: "spec.source.pvc.path",
    message: "path must be relative",
  },
  {
    when: "dimension is 0",
    resource: model({ dimension: 0 }),
    path: "spec.dimension",
    message: "must be >= 1",
  },
  {
    when: "dimension is 9000",
    resource: model({ dimension: 9000 }),
    path: "spec.dimension",
    message: "must be <= 8192",
  },
  {
    when: "pooling is missing",
    resource: { ...model(), spec: { source: { path: "m" }, dimension: 3 } },
    path: "spec.pooling",
    message: "required field is missing",
  },
  {
    when: "pooling is max",
    resource: model({ pooling: "max" }),
    path: "spec.pooling",
    message: 'must be one of "mean", "cls"',
  },
  {
    when: "autoscaling's min exceeds its max",
    resource: model({ runtime: { autoscaling: { minReplicas: 5, maxReplicas: 2 } } }),
    path: "spec.runtime.autoscaling.minReplicas",
    message: "autoscaling.minReplicas must be <= autoscaling.maxReplicas",
  },
  {
    when: "threads is 0",
    resource: model({ runtime: { threads: 0 } }),
    path: "spec.runtime.threads",
    message: "must be >= 1",
  },
  {
    when: "normalize is a string",
    resource: model({ normalize: "yes" }),
    path: "spec.normalize",
    message: 'must be of type boolean, got the string "yes"',
  },
  {
    when: "a top-level field is unknown",
    resource: { ...model(), extra: 1 },
    path: "extra",
    message: "unknown field",
  },
  {
    when: "the apiVersion is wrong",
    resource: { ...model(), apiVersion: "embedops.dev/v1" },
    path: "apiVersion",
    message: 'must be "embedops.dev/v1alpha1", got "embedops.dev/v1"',
    server: 'no matches for kind "EmbeddingModel" in version "embedops.dev/v1"',
  },
  {
    when: "the kind is unknown",
    resource: { ...model(), kind: "Encoder" },
    path: "kind",
    message: 'must be one of EmbeddingModel, VectorIndex, IndexSnapshot, got "Encoder"',
    server: 'no matches for kind "Encoder"',
  },
  {
    when: "a snapshot names no index",
    resource: { ...snapshot(), spec: {} },
    path: "spec.indexRef",
    message: "required field is missing",
  },
];
