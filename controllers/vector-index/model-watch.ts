// EmbeddingModel events -> the VectorIndexes that name the model, so a model appearing, reporting
// or changing its fingerprint (or being deleted) reconciles its indexes at once instead of at the
// next resync. The mapping reads the VectorIndex informer cache; the reconcile then reads fresh.
import type { KubernetesObject } from "@kubernetes/client-node";
import { objectKey } from "../../src/kube/keys.js";
import type { RelatedWatch } from "../../src/kube/operator-runtime.js";
import { EMBEDDING_MODEL, VECTOR_INDEX } from "../shared/resources.js";

/** Keys of the indexes in the model's namespace whose spec.modelRef.name is the model's name. */
export function indexesNamingModel(model: KubernetesObject, indexes: readonly KubernetesObject[]): string[] {
  const name = model.metadata?.name;
  const namespace = model.metadata?.namespace;
  if (!name) return [];
  return indexes
    .filter((vi) => vi.metadata?.namespace === namespace && modelRefName(vi) === name)
    .map(objectKey)
    .sort();
}

/** Read without the zod schema: an invalid index still names its model, and its reconcile reports why. */
function modelRefName(vi: KubernetesObject): unknown {
  const spec = (vi as { spec?: { modelRef?: { name?: unknown } } }).spec;
  return spec?.modelRef?.name;
}

export const modelWatch: RelatedWatch = {
  resource: EMBEDDING_MODEL,
  keysFor: (model, cache) => indexesNamingModel(model, cache(VECTOR_INDEX).list(model.metadata?.namespace)),
};
