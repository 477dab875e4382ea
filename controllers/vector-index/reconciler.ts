// VectorIndex -> auth Secret, shard StatefulSets, headless Services, router, NetworkPolicy and status, in
// kubebuilder's order. The model is resolved first: without its fingerprint there is no generation
// to build, and the reason becomes a condition (ModelNotFound, DimensionMismatch, ...).
import type { V1Deployment, V1StatefulSet } from "@kubernetes/client-node";
import type { EmbeddingModel, VectorIndex, VectorIndexStatus } from "../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../src/builders/context.js";
import { indexChildren } from "../../src/builders/index-children.js";
import { generationOf, type IndexProps, shardsOf } from "../../src/builders/index-props.js";
import { routerName, shardSetName } from "../../src/builders/names.js";
import { keyOf } from "../../src/kube/keys.js";
import type { Controller, ReconcileContext, ReconcileResult } from "../../src/kube/operator-runtime.js";
import { controllerReference } from "../../src/kube/owner.js";
import { childId, convergeChildren } from "../shared/children.js";
import { type ControllerOptions, depsFrom, type ReconcilerDeps, rfc3339 } from "../shared/deps.js";
import { handleDeletion, readPrimary } from "../shared/primary.js";
import { EMBEDDING_MODEL, INDEX_CHILDREN, VECTOR_INDEX } from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";
import { writeStatus } from "../shared/write-status.js";
import { ensureAuthSecret } from "./auth-secret.js";
import { modelWatch } from "./model-watch.js";
import { type ModelLookup, resolveModel } from "./resolve-model.js";
import { indexStatus } from "./status.js";

export class VectorIndexReconciler implements Controller {
  readonly name = "vectorindex";
  readonly resource = VECTOR_INDEX;
  readonly owns = INDEX_CHILDREN;
  // A model appearing, changing or reporting its fingerprint reconciles the indexes naming it, so
  // an unresolved index needs no poll: it waits for that event (the resync stays the safety net).
  readonly watches = [modelWatch];

  constructor(private readonly options: ControllerOptions) {}

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = depsFrom(context, this.options);
    const obj = await readPrimary(deps, VECTOR_INDEX, key);
    if (!obj) return {};
    // Nothing outside the object graph yet. Once snapshots exist, deletion will first take a final
    // snapshot if spec.snapshot asks for one; shards and their PVCs go by owner reference / retention.
    if (await handleDeletion(deps, obj, async () => {})) return {};

    const previous = (obj as { status?: VectorIndexStatus }).status;
    const base = { generation: obj.metadata?.generation, previous, now: rfc3339(deps.clock.now()) };
    const parsed = parseAs<VectorIndex>(obj, "VectorIndex");
    if (!parsed.ok) {
      await writeStatus(deps, obj, indexStatus({ ...base, invalidSpec: parsed.message }), previous);
      return {};
    }
    await deps.applier.addFinalizer(obj);

    const vi = parsed.value;
    const namespace = obj.metadata?.namespace ?? "";
    const ctx: OwnerContext = {
      namespace,
      ownerReference: controllerReference(obj),
      ownerLabels: vi.metadata.labels,
      image: deps.image,
    };
    // Before the model: clients can fetch their key while the encoder still rolls out.
    const createdSecret = await ensureAuthSecret(deps, ctx, vi.metadata.name, vi.spec);
    if (createdSecret) await deps.events.normal(obj, "Created", `created ${createdSecret}`);
    const resolution = resolveModel(
      vi.spec,
      namespace,
      await lookupModel(deps, namespace, vi.spec.modelRef.name),
    );
    if (!resolution.ok) {
      await writeStatus(deps, obj, indexStatus({ ...base, resolution }), previous);
      return {};
    }

    const props: IndexProps = {
      index: vi.metadata.name,
      spec: vi.spec,
      model: resolution.model,
      fingerprint: resolution.fingerprint,
      dimension: resolution.dimension,
      encoder: resolution.encoder,
      encoderAuth: resolution.encoderAuth,
    };
    const converged = await convergeChildren(
      deps.objects,
      deps.applier,
      namespace,
      obj.metadata?.uid ?? "",
      indexChildren(ctx, props),
    );
    if (converged.created.length > 0) {
      await deps.events.normal(obj, "Created", `created ${converged.created.join(", ")}`);
    }
    const generation = generationOf(props);
    const shards = shardsOf(props).map(
      (s) =>
        converged.objects.get(
          childId({ kind: "StatefulSet", metadata: { name: shardSetName(props.index, generation, s) } }),
        ) as V1StatefulSet | undefined,
    );
    const router = converged.objects.get(
      childId({ kind: "Deployment", metadata: { name: routerName(props.index) } }),
    ) as V1Deployment | undefined;
    const status = indexStatus({
      ...base,
      resolution,
      shards,
      ...(router ? { router } : {}),
      ...(converged.error ? { applyError: converged.error } : {}),
    });
    await writeStatus(deps, obj, status, previous);
    if (converged.error) throw new Error(converged.error);
    return {};
  }
}

async function lookupModel(deps: ReconcilerDeps, namespace: string, name: string): Promise<ModelLookup> {
  const model = await readPrimary(deps, EMBEDDING_MODEL, keyOf({ namespace, name }));
  if (!model) return { found: false };
  const parsed = parseAs<EmbeddingModel>(model, "EmbeddingModel");
  return parsed.ok ? { found: true, model: parsed.value } : { found: true, invalid: parsed.message };
}
