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

/**
 * `embedops encoder` flags from the spec's embedding space: the encoder checks them against its
 * model directory's embedops-model.json and refuses to start on a contradiction (the spec is the
 * truth; src/encoder/space-settings.ts has the rules). The prefixes go as `--flag=value`: a prefix
 * may be empty or start with "-", which `--flag value` cannot carry.
 *
 * Not part of a revision's `args` (src/rollout/revision.ts hashes these settings as `space`
 * already): adding them there would change every existing revision and roll every model.
 */
export function encoderSpaceArgs(
  spec: Pick<
    EmbeddingModelSpec,
    "dimension" | "pooling" | "normalize" | "maxSequenceLength" | "queryPrefix" | "documentPrefix"
  >,
): string[] {
  return [
    "--dimension",
    String(spec.dimension),
    "--pooling",
    spec.pooling,
    "--normalize",
    String(spec.normalize),
    "--max-sequence-length",
    String(spec.maxSequenceLength),
    `--query-prefix=${spec.queryPrefix}`,
    `--document-prefix=${spec.documentPrefix}`,
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
