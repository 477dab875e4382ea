// How the model directory reaches the encoder container, for each kind of spec.source:
//   path - already in the image; nothing to mount.
//   pvc  - the claim mounted read-only at /models; the model directory is source.pvc.path in it.
//   http - an emptyDir at /models, filled by an init container (`embedops fetch-model`, same image)
//          that downloads the .tar.gz, checks its sha256 and unpacks it before the encoder starts.
// When source.sha256 (of model.onnx) is set, an init container checks it for path and pvc too, so
// a wrong model never serves: the pod stays in Init with the mismatch in its log.
import { posix } from "node:path";
import type { V1Container, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { ModelSource } from "../api/v1alpha1/index.js";
import { containerSecurityContext } from "./pod-security.js";

export const MODELS_MOUNT = "/models";
const MODEL_VOLUME = "model";

export interface ModelVolume {
  /** --model-dir of the encoder. */
  readonly modelDir: string;
  readonly volumes: V1Volume[];
  /** Mounts of the encoder container. */
  readonly mounts: V1VolumeMount[];
  readonly initContainers: V1Container[];
}

export function modelVolume(source: ModelSource, image: string): ModelVolume {
  const verifyArgs = source.sha256 ? ["--onnx-sha256", source.sha256] : [];
  if (source.http) {
    const modelDir = MODELS_MOUNT;
    return {
      modelDir,
      volumes: [{ name: MODEL_VOLUME, emptyDir: {} }],
      mounts: [{ name: MODEL_VOLUME, mountPath: MODELS_MOUNT, readOnly: true }],
      initContainers: [
        fetchContainer(
          image,
          [
            "--url",
            source.http.url,
            "--archive-sha256",
            source.http.sha256,
            "--model-dir",
            modelDir,
            ...verifyArgs,
          ],
          [{ name: MODEL_VOLUME, mountPath: MODELS_MOUNT }],
        ),
      ],
    };
  }
  if (source.pvc) {
    const modelDir = source.pvc.path ? posix.join(MODELS_MOUNT, source.pvc.path) : MODELS_MOUNT;
    const mount: V1VolumeMount = { name: MODEL_VOLUME, mountPath: MODELS_MOUNT, readOnly: true };
    return {
      modelDir,
      volumes: [
        { name: MODEL_VOLUME, persistentVolumeClaim: { claimName: source.pvc.claimName, readOnly: true } },
      ],
      mounts: [mount],
      initContainers: source.sha256
        ? [fetchContainer(image, ["--model-dir", modelDir, ...verifyArgs], [mount])]
        : [],
    };
  }
  if (source.path) {
    return {
      modelDir: source.path,
      volumes: [],
      mounts: [],
      initContainers: source.sha256
        ? [fetchContainer(image, ["--model-dir", source.path, ...verifyArgs], [])]
        : [],
    };
  }
  // The CRD's CEL rule makes this unreachable for objects the API server accepted.
  throw new Error("spec.source must set exactly one of path, pvc or http");
}

function fetchContainer(image: string, args: string[], mounts: V1VolumeMount[]): V1Container {
  return {
    name: "fetch-model",
    image,
    imagePullPolicy: "IfNotPresent",
    args: ["fetch-model", ...args],
    volumeMounts: mounts,
    securityContext: containerSecurityContext(),
    // Small on purpose: it streams, it never holds the model in memory.
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "256Mi" } },
  };
}
