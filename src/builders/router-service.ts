// VectorIndex -> the router Service: the one address clients of the index use.
import type { V1Service } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { routerSelector, withCommon } from "./labels.js";
import { routerName } from "./names.js";
import { HTTP_PORT, HTTP_PORT_NAME } from "./pod-security.js";

export function routerService(ctx: OwnerContext, index: string): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: childMeta(ctx, routerName(index), withCommon(routerSelector(index), ctx.ownerLabels)),
    spec: {
      type: "ClusterIP",
      selector: routerSelector(index),
      ports: [{ name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" }],
    },
  };
}
