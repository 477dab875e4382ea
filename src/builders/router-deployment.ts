// VectorIndex -> the router Deployment: the index's front door (fan-out, merge, replicated writes).
import type { V1Deployment, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
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
import { routerKeySecret, type SecretKey } from "./router-auth.js";
import { ROUTER_CONFIG_KEY } from "./router-config.js";

export const ROUTER_CONFIG_MOUNT = "/etc/embedops/router";
export const ROUTER_AUTH_MOUNT = "/etc/embedops/auth";
export const ENCODER_AUTH_MOUNT = "/etc/embedops/encoder-auth";
const API_KEYS_FILE = "api-keys";
const ENCODER_KEY_FILE = "encoder-key";

export interface RouterDeploymentProps {
  readonly index: string;
  readonly spec: VectorIndexSpec;
  /** The model's authSecretRef: the router sends its first key to the encoder. */
  readonly encoderAuth?: SecretKey | undefined;
}

interface SecretMount {
  readonly args: string[];
  readonly volumes: V1Volume[];
  readonly mounts: V1VolumeMount[];
}

/** One Secret key as a file in its own directory (a directory mount sees the Secret's updates). */
function secretFile(volume: string, ref: SecretKey, dir: string, file: string, flag: string): SecretMount {
  return {
    args: [flag, `${dir}/${file}`],
    volumes: [
      {
        name: volume,
        secret: { secretName: ref.name, items: [{ key: ref.key, path: file }], defaultMode: 0o440 },
      },
    ],
    mounts: [{ name: volume, mountPath: dir, readOnly: true }],
  };
}

function authMounts(props: RouterDeploymentProps): SecretMount {
  const clients = routerKeySecret(props.index, props.spec);
  const parts = [
    ...(clients ? [secretFile("auth", clients, ROUTER_AUTH_MOUNT, API_KEYS_FILE, "--api-key-file")] : []),
    ...(props.encoderAuth
      ? [
          secretFile(
            "encoder-auth",
            props.encoderAuth,
            ENCODER_AUTH_MOUNT,
            ENCODER_KEY_FILE,
            "--encoder-key-file",
          ),
        ]
      : []),
  ];
  return {
    args: parts.flatMap((p) => p.args),
    volumes: parts.flatMap((p) => p.volumes),
    mounts: parts.flatMap((p) => p.mounts),
  };
}

export function routerDeployment(ctx: OwnerContext, props: RouterDeploymentProps): V1Deployment {
  const { index, spec } = props;
  const selector = routerSelector(index);
  const labels = withCommon(selector, ctx.ownerLabels);
  const name = routerName(index);
  const auth = authMounts(props);
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
                ...auth.args,
              ],
              ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" }],
              readinessProbe: readinessProbe(),
              livenessProbe: livenessProbe(),
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: "config", mountPath: ROUTER_CONFIG_MOUNT, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
                ...auth.mounts,
              ],
            },
          ],
          volumes: [{ name: "config", configMap: { name } }, { name: "tmp", emptyDir: {} }, ...auth.volumes],
        },
      },
    },
  };
}
