// EmbeddingModel -> one encoder revision's Deployment, `<model>-encoder-<revision>`. During a rollout
// the stable and the candidate revision run side by side, each in its own Deployment (so the
// stable's pods are never touched while the candidate is judged); which revisions run and how many
// pods each gets comes from the rollout state machine (src/rollout/state-machine.ts `desired`).
import type {
  V1Container,
  V1Deployment,
  V1PodTemplateSpec,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import type { EmbeddingModelSpec } from "../api/v1alpha1/index.js";
import { encoderRuntimeArgs, encoderSpaceArgs } from "../core/role-args.js";
import { encoderRevision, revisionInputOf } from "../rollout/revision.js";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderRevisionSelector, withCommon } from "./labels.js";
import { modelVolume } from "./model-volume.js";
import { encoderName, encoderRevisionName } from "./names.js";
import {
  containerSecurityContext,
  HTTP_PORT,
  HTTP_PORT_NAME,
  livenessProbe,
  podSecurityContext,
  readinessProbe,
} from "./pod-security.js";
import { resourceRequirements } from "./resources.js";

/**
 * Pod-template annotation and label value: the revision (src/rollout/revision.ts), also
 * status.revision, status.canary.revision and the encoder's --revision metric label.
 */
export const REVISION_ANNOTATION = "embedops.dev/revision";
export const AUTH_MOUNT = "/etc/embedops/auth";
const AUTH_FILE = "api-keys";

export interface EncoderDeploymentProps {
  readonly model: string;
  readonly spec: EmbeddingModelSpec;
  /**
   * The revision this Deployment runs. Default: the spec's own (`modelRevision`). A revision other
   * than the spec's is only ever rendered by the shell from the spec it was computed from.
   */
  readonly revision?: string;
  /**
   * Pods. Default: spec.runtime.replicas, or none written when autoscaling is on (the HPA owns the
   * count of the stable revision). A candidate or a rolled-back revision gets an explicit count.
   */
  readonly replicas?: number;
  /**
   * Seconds a pod gets to drain in-flight batches on SIGTERM. Default 30 (the Kubernetes default,
   * written out so the template is explicit).
   */
  readonly terminationGracePeriodSeconds?: number;
}

/** The revision of a (defaulted) spec: the same value `embedops serve` computes. */
export function modelRevision(spec: EmbeddingModelSpec, defaultImage: string): string {
  return encoderRevision(revisionInputOf(spec, defaultImage));
}

/**
 * The kubelet expands `$(VAR)` in container args and reduces `$$` to `$`; a prefix is free text, so
 * each `$` is doubled for the encoder to receive exactly the spec's value.
 */
const literalArg = (arg: string): string => arg.replaceAll("$", () => "$$");

function encoderArgs(spec: EmbeddingModelSpec, modelDir: string, revision: string): string[] {
  return [
    "encoder",
    "--model-dir",
    modelDir,
    ...encoderRuntimeArgs(spec.runtime),
    ...encoderSpaceArgs(spec).map(literalArg),
    // Every metric carries it, so the analysis tells the revisions' requests apart.
    "--revision",
    revision,
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

function podTemplate(ctx: OwnerContext, props: EncoderDeploymentProps, revision: string): V1PodTemplateSpec {
  const { spec, model } = props;
  const image = spec.runtime.image ?? ctx.image;
  const source = modelVolume(spec.source, image);
  const auth = authVolume(spec);
  const resources = resourceRequirements(spec.runtime.resources);
  const container: V1Container = {
    name: "encoder",
    image,
    imagePullPolicy: "IfNotPresent",
    args: encoderArgs(spec, source.modelDir, revision),
    ports: [{ name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" }],
    readinessProbe: readinessProbe(),
    livenessProbe: livenessProbe(),
    securityContext: containerSecurityContext(),
    ...(resources ? { resources } : {}),
    volumeMounts: [...source.mounts, ...auth.mounts, { name: "tmp", mountPath: "/tmp" }],
  };
  return {
    metadata: {
      labels: withCommon(encoderRevisionSelector(model, revision), ctx.ownerLabels),
      annotations: { [REVISION_ANNOTATION]: revision },
    },
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

export function encoderDeployment(ctx: OwnerContext, props: EncoderDeploymentProps): V1Deployment {
  const { spec, model } = props;
  const revision = props.revision ?? modelRevision(spec, ctx.image);
  const replicas = props.replicas ?? (spec.runtime.autoscaling ? undefined : spec.runtime.replicas);
  const selector = encoderRevisionSelector(model, revision);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: childMeta(ctx, encoderRevisionName(model, revision), withCommon(selector, ctx.ownerLabels)),
    spec: {
      // With autoscaling the HPA owns the stable's count; applying one here would fight it on every reconcile.
      ...(replicas !== undefined ? { replicas } : {}),
      selector: { matchLabels: selector },
      // Loading a model takes seconds to minutes: never drop below the serving capacity while rolling.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: podTemplate(ctx, props, revision),
    },
  };
}
