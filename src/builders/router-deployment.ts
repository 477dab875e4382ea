// VectorIndex -> the router Deployment: the index's front door (fan-out, merge, replicated writes).
import type { V1Deployment } from "@kubernetes/client-node";
import type { VectorIndexSpec } from "../api/v1alpha1/index.js";
import { childMeta, type OwnerContext } from "./context.js";
import { routerSelector, withCommon } from "./labels.js";
import { routerName } from "./names.js";
import {
  containerSecurityContext,
  HTTP_PORT,
  HTTP_PORT_NAME,
  livenessProbe,
  podSecurityContext,
  readinessProbe,
} from "./pod-security.js";
import { ROUTER_CONFIG_KEY } from "./router-config.js";

export const ROUTER_CONFIG_MOUNT = "/etc/embedops/router";

export interface RouterDeploymentProps {
  readonly index: string;
  readonly spec: VectorIndexSpec;
}

export function routerDeployment(ctx: OwnerContext, props: RouterDeploymentProps): V1Deployment {
  const { index, spec } = props;
  const selector = routerSelector(index);
  const labels = withCommon(selector, ctx.ownerLabels);
  const name = routerName(index);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMeta(ctx, name, labels),
    spec: {
      replicas: spec.router.replicas,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          containers: [
            {
              name: "router",
              image: ctx.image,
              imagePullPolicy: "IfNotPresent",
              // The directory, not a subPath: only a directory mount sees ConfigMap updates.
              args: [
                "router",
                "--config",
                `${ROUTER_CONFIG_MOUNT}/${ROUTER_CONFIG_KEY}`,
                "--host",
                "0.0.0.0",
                "--port",
                String(HTTP_PORT),
              ],
              ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" }],
              readinessProbe: readinessProbe(),
              livenessProbe: livenessProbe(),
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: "config", mountPath: ROUTER_CONFIG_MOUNT, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "config", configMap: { name } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}
