// Minimal valid resources; tests spread overrides into them.
export const model = (spec: Record<string, unknown> = {}, name = "minilm") => ({
  apiVersion: "embedops.dev/v1alpha1",
  kind: "EmbeddingModel",
  metadata: { name },
  spec: { source: { path: "models/all-minilm-l6-v2" }, dimension: 384, pooling: "mean", ...spec },
});

export const index = (spec: Record<string, unknown> = {}, name = "docs") => ({
  apiVersion: "embedops.dev/v1alpha1",
  kind: "VectorIndex",
  metadata: { name },
  spec: { modelRef: { name: "minilm" }, ...spec },
});

export const snapshot = (spec: Record<string, unknown> = {}, name = "docs-manual") => ({
  apiVersion: "embedops.dev/v1alpha1",
  kind: "IndexSnapshot",
  metadata: { name },
  spec: { indexRef: { name: "docs" }, ...spec },
});

export const s3Store = {
  s3: { endpoint: "https://s3.example.com", bucket: "snaps", secretRef: { name: "s3" } },
};
