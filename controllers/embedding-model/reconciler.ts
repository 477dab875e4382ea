// EmbeddingModel -> encoder children and status, in kubebuilder's order: get -> validate ->
// deletion -> finalizer -> children -> learn the fingerprint -> status (written only on change)
// -> events for transitions.
import type { V1Deployment } from "@kubernetes/client-node";
import type { EmbeddingModel, EmbeddingModelStatus } from "../../src/api/v1alpha1/index.js";
import type { OwnerContext } from "../../src/builders/context.js";
import { encoderRevision } from "../../src/builders/encoder-deployment.js";
import { modelChildren } from "../../src/builders/model-children.js";
import { encoderName } from "../../src/builders/names.js";
import { describeError } from "../../src/kube/errors.js";
import type { Controller, ReconcileContext, ReconcileResult } from "../../src/kube/operator-runtime.js";
import { controllerReference } from "../../src/kube/owner.js";
import { childId, convergeChildren } from "../shared/children.js";
import { deploymentState } from "../shared/conditions.js";
import { type ControllerOptions, depsFrom, rfc3339 } from "../shared/deps.js";
import { handleDeletion, readPrimary } from "../shared/primary.js";
import { EMBEDDING_MODEL, MODEL_CHILDREN } from "../shared/resources.js";
import { parseAs } from "../shared/spec-errors.js";
import { writeStatus } from "../shared/write-status.js";
import type { EncoderReport, FingerprintProbe } from "./fingerprint-probe.js";
import { type ModelObservation, modelStatus } from "./status.js";

/** How soon to ask the encoder again when it is rolled out but /info did not answer. */
export const PROBE_RETRY_MS = 10_000;

export interface EmbeddingModelOptions extends ControllerOptions {
  /** How the encoder's fingerprint is read; default GET /info through the encoder Service. */
  readonly probe: FingerprintProbe;
}

export class EmbeddingModelReconciler implements Controller {
  readonly name = "embeddingmodel";
  readonly resource = EMBEDDING_MODEL;
  readonly owns = MODEL_CHILDREN;

  constructor(private readonly options: EmbeddingModelOptions) {}

  async reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult> {
    const deps = depsFrom(context, this.options);
    const obj = await readPrimary(deps, EMBEDDING_MODEL, key);
    if (!obj) return {};
    // Nothing outside the object graph yet: the encoder's children go with it by owner reference.
    if (await handleDeletion(deps, obj, async () => {})) return {};

    const previous = (obj as { status?: EmbeddingModelStatus }).status;
    const base = { generation: obj.metadata?.generation, previous, now: rfc3339(deps.clock.now()) };
    const parsed = parseAs<EmbeddingModel>(obj, "EmbeddingModel");
    if (!parsed.ok) {
      await writeStatus(deps, obj, modelStatus({ ...base, invalidSpec: parsed.message }), previous);
      return {};
    }
    await deps.applier.addFinalizer(obj);

    const model = parsed.value;
    const name = model.metadata.name;
    const namespace = obj.metadata?.namespace ?? "";
    const ctx: OwnerContext = {
      namespace,
      ownerReference: controllerReference(obj),
      ownerLabels: model.metadata.labels,
      image: deps.image,
    };
    const converged = await convergeChildren(
      deps.objects,
      deps.applier,
      namespace,
      obj.metadata?.uid ?? "",
      modelChildren(ctx, name, model.spec),
    );
    if (converged.created.length > 0) {
      await deps.events.normal(obj, "Created", `created ${converged.created.join(", ")}`);
    }
    const deployment = converged.objects.get(
      childId({ kind: "Deployment", metadata: { name: encoderName(name) } }),
    ) as V1Deployment | undefined;

    // Only a fully rolled-out encoder is asked: then every pod behind the Service runs this spec.
    let report: ModelObservation["report"];
    if (deploymentState(deployment).rolledOut) {
      report = await this.options.probe(name, namespace).then(
        (r): EncoderReport => r,
        (err: unknown) => ({ error: describeError(err) }),
      );
    }
    const status = modelStatus({
      ...base,
      dimension: model.spec.dimension,
      ...(deployment ? { deployment } : {}),
      revision: encoderRevision(ctx, { model: name, spec: model.spec }),
      ...(report ? { report } : {}),
      ...(converged.error ? { applyError: converged.error } : {}),
    });
    await writeStatus(deps, obj, status, previous);
    if (converged.error) throw new Error(converged.error);
    return report && "error" in report ? { requeueAfterMs: PROBE_RETRY_MS } : {};
  }
}
