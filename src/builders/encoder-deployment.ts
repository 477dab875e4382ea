// EmbeddingModel -> the encoder Deployment.
import type {
  V1Container,
  V1Deployment,
  V1PodTemplateSpec,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { EmbeddingModelSpec } from "../api/v1alpha1/index.js";
import { encoderRuntimeArgs } from "../core/role-args.js";
import { childMeta, type OwnerContext } from "./context.js";
import { contentHash } from "./hash.js";
import { encoderSelector, withCommon } from "./labels.js";
import { modelVolume } from "./model-volume.js";
import { encoderName } from "./names.js";
import {
  containerSecurityContext,
  HTTP_PORT,
  HTTP_PORT_NAME,
  livenessProbe,
  podSecurityContext,
  readinessProbe,
} from "./pod-security.js";
import { resourceRequirements } from "./resources.js";

/** Pod-template annotation: hash of everything the pods run; also status.revision. */
export const REVISION_ANNOTATION = "embedops.dev/revision";
export const AUTH_MOUNT = "/etc/embedops/auth";
const AUTH_FILE = "api-keys";

export interface EncoderDeploymentProps {
  readonly model: string;
  readonly spec: EmbeddingModelSpec;
  /**
   * Seconds a pod gets to drain in-flight batches on SIGTERM. Default 30 (the Kubernetes default,
   * written out so the template is explicit).
   */
  readonly terminationGracePeriodSeconds?: number;
}

function encoderArgs(spec: EmbeddingModelSpec, modelDir: string): string[] {
  return [
    "encoder",
    "--model-dir",
    modelDir,
    ...encoderRuntimeArgs(spec.runtime),
    ...(spec.authSecretRef ? ["--api-key-file", `${AUTH_MOUNT}/${AUTH_FILE}`] : []),
    "--host",
    "0.0.0.0",
    "--port",
    String(HTTP_PORT),
  ];
}

function authVolume(spec: EmbeddingModelSpec): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (!spec.authSecretRef) return { volumes: [], mounts: [] };
  return {
    volumes: [
      {
        name: "auth",
        secret: {
          secretName: spec.authSecretRef.name,
          items: [{ key: spec.authSecretRef.key, path: AUTH_FILE }],
          defaultMode: 0o440,
        },
      },
    ],
    mounts: [{ name: "auth", mountPath: AUTH_MOUNT, readOnly: true }],
  };
}

/** The pod template without the revision annotation: what the revision hashes. */
function podTemplate(ctx: OwnerContext, props: EncoderDeploymentProps): V1PodTemplateSpec {
  const { spec, model } = props;
  const image = spec.runtime.image ?? ctx.image;
  const source = modelVolume(spec.source, image);
  const auth = authVolume(spec);
  const resources = resourceRequirements(spec.runtime.resources);
  const container: V1Container = {
    name: "encoder",
    image,
    imagePullPolicy: "IfNotPresent",
    args: encoderArgs(spec, source.modelDir),
    ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" }],
    readinessProbe: readinessProbe(),
    livenessProbe: livenessProbe(),
    securityContext: containerSecurityContext(),
    ...(resources ? { resources } : {}),
    volumeMounts: [...source.mounts, ...auth.mounts, { name: "tmp", mountPath: "/tmp" }],
  };
  return {
    metadata: { labels: withCommon(encoderSelector(model), ctx.ownerLabels) },
    spec: {
      serviceAccountName: encoderName(model),
      // The encoder never calls the Kubernetes API.
      automountServiceAccountToken: false,
      securityContext: podSecurityContext(),
      terminationGracePeriodSeconds: props.terminationGracePeriodSeconds ?? 30,
      ...(source.initContainers.length > 0 ? { initContainers: source.initContainers } : {}),
      containers: [container],
      volumes: [...source.volumes, ...auth.volumes, { name: "tmp", emptyDir: {} }],
    },
  };
}

/** Hash of the pod template: changes exactly when the pods must change. */
export function encoderRevision(ctx: OwnerContext, props: EncoderDeploymentProps): string {
  return contentHash(podTemplate(ctx, props));
}

export function encoderDeployment(ctx: OwnerContext, props: EncoderDeploymentProps): V1Deployment {
  const { spec, model } = props;
  const template = podTemplate(ctx, props);
  const revision = contentHash(template);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMeta(ctx, encoderName(model), withCommon(encoderSelector(model), ctx.ownerLabels)),
    spec: {
      // With autoscaling the HPA owns the count; applying one here would fight it on every reconcile.
      ...(spec.runtime.autoscaling ? {} : { replicas: spec.runtime.replicas }),
      selector: { matchLabels: encoderSelector(model) },
      // Loading a model takes seconds to minutes: never drop below the serving capacity while rolling.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { ...template.metadata, annotations: { [REVISION_ANNOTATION]: revision } },
        spec: template.spec,
      },
    },
  };
}
