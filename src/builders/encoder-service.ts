// EmbeddingModel -> the encoder Services. `<model>-encoder` selects every encoder pod of the model,
// whatever its revision: a client that calls it directly during a canary gets a split by replica
// ratio (the candidate runs as many pods as the stable, so about half), not the canary weight.
// Routers call `<model>-encoder-<revision>`, one Service per revision, and split by exact weight.
import type { V1Service } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderRevisionSelector, encoderSelector, withCommon } from "./labels.js";
import { encoderName, encoderRevisionName } from "./names.js";
import { HTTP_PORT, HTTP_PORT_NAME } from "./pod-security.js";

export function encoderService(ctx: OwnerContext, model: string): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(ctx, encoderName(model), withCommon(encoderSelector(model), ctx.ownerLabels)),
    spec: {
      type: "ClusterIP",
      selector: encoderSelector(model),
      ports: [{ name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" }],
    },
  };
}

/** In-cluster URL of a model's encoder, as routers and the operator's /info probe use it. */
export function encoderUrl(model: string, namespace: string): string {
  return `http://${encoderName(model)}.${namespace}.svc:${HTTP_PORT}`;
}

/** One revision's own Service: the routers' per-revision target, and what the operator probes and scrapes. */
export function encoderRevisionService(ctx: OwnerContext, model: string, revision: string): V1Service {
  const selector = encoderRevisionSelector(model, revision);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(ctx, encoderRevisionName(model, revision), withCommon(selector, ctx.ownerLabels)),
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" }],
    },
  };
}

/** In-cluster URL of one encoder revision's Service. */
export function encoderRevisionUrl(model: string, revision: string, namespace: string): string {
  return `http://${encoderRevisionName(model, revision)}.${namespace}.svc:${HTTP_PORT}`;
}
