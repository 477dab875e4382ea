// The data-plane flags that follow from a resource spec, in one place, so that the Kubernetes shell
// (src/builders) and the local shell (`embedops serve`, src/local/plan.ts) start encoders and shards
// the same way.
import type { EmbeddingModelSpec, VectorIndexSpec } from "../api/v1alpha1/index.js";

/** `embedops encoder` flags from spec.runtime: threads and the batching limits. */
export function encoderRuntimeArgs(runtime: EmbeddingModelSpec["runtime"]): string[] {
  return [
    "--threads",
    String(runtime.threads),
    "--max-batch-tokens",
    String(runtime.maxBatchTokens),
    "--max-batch-requests",
    String(runtime.maxBatchRequests),
    "--max-concurrent-requests",
    String(runtime.maxConcurrentRequests),
  ];
}

/** `embedops shard` flags from spec.hnsw. */
export function hnswArgs(hnsw: VectorIndexSpec["hnsw"]): string[] {
  return [
    "--m",
    String(hnsw.m),
    "--ef-construction",
    String(hnsw.efConstruction),
    "--ef-search",
    String(hnsw.efSearch),
  ];
}
