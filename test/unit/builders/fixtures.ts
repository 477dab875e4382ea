import type {
  EmbeddingModel,
  EmbeddingModelInput,
  VectorIndex,
  VectorIndexInput,
} from "../../../src/api/v1alpha1/index.js";
import {
  EmbeddingModel as EmbeddingModelSchema,
  VectorIndex as VectorIndexSchema,
} from "../../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../../src/builders/context.js";

export const FINGERPRINT = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

export function model(spec: Partial<EmbeddingModelInput["spec"]> = {}, name = "minilm"): EmbeddingModel {
  return EmbeddingModelSchema.parse({
    apiVersion: "embedops.dev/v1alpha1",
    kind: "EmbeddingModel",
    metadata: { name, namespace: "ns" },
    spec: { source: { path: "/models/minilm" }, dimension: 384, pooling: "mean", ...spec },
  });
}

export function index(spec: Partial<VectorIndexInput["spec"]> = {}, name = "docs"): VectorIndex {
  return VectorIndexSchema.parse({
    apiVersion: "embedops.dev/v1alpha1",
    kind: "VectorIndex",
    metadata: { name, namespace: "ns" },
    spec: { modelRef: { name: "minilm" }, shards: 2, ...spec },
  });
}

export function ctx(kind = "EmbeddingModel", name = "minilm"): OwnerContext {
  return {
    namespace: "ns",
    image: "ghcr.io/embedops/embedops:0.1.0",
    ownerReference: {
      apiVersion: "embedops.dev/v1alpha1",
      kind,
      name,
      uid: "00000000-0000-0000-0000-000000000001",
      controller: true,
      blockOwnerDeletion: true,
    },
  };
}
