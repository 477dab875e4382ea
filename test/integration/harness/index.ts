export { DEFAULT_KUBE_VERSION, findEtcd, findKubeApiserver, kubeApiserverCachePath } from "./binaries.js";
export {
  type ControlPlane,
  type ControlPlaneCoordinates,
  type StartOptions,
  startControlPlane,
} from "./control-plane.js";
export { type KubeconfigCredentials, type KubeconfigOptions, writeKubeconfig } from "./kubeconfig.js";
export {
  adminKubeConfig,
  ensureNamespace,
  type ServiceAccountIdentity,
  type ServiceAccountKubeconfigOptions,
  serviceAccountKubeconfig,
  serviceAccountToken,
  userKubeconfig,
} from "./service-accounts.js";
