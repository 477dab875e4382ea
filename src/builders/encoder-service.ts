// EmbeddingModel -> the encoder Service: the stable address routers and clients use.
import type { V1Service } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderSelector, withCommon } from "./labels.js";
import { encoderName } from "./names.js";
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
