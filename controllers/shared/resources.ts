// The kinds the operator reads and writes, with their REST collection names (for informers).
import type { ResourceRef } from "../../src/kube/resource.js";

export const EMBEDDING_MODEL: ResourceRef = {
  apiVersion: "embedops.dev/v1alpha1",
  kind: "EmbeddingModel",
  plural: "embeddingmodels",
};
export const VECTOR_INDEX: ResourceRef = {
  apiVersion: "embedops.dev/v1alpha1",
  kind: "VectorIndex",
  plural: "vectorindexes",
};
export const INDEX_SNAPSHOT: ResourceRef = {
  apiVersion: "embedops.dev/v1alpha1",
  kind: "IndexSnapshot",
  plural: "indexsnapshots",
};

export const DEPLOYMENT: ResourceRef = { apiVersion: "apps/v1", kind: "Deployment", plural: "deployments" };
export const STATEFUL_SET: ResourceRef = {
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  plural: "statefulsets",
};
export const SERVICE: ResourceRef = { apiVersion: "v1", kind: "Service", plural: "services" };
export const CONFIG_MAP: ResourceRef = { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" };
export const SERVICE_ACCOUNT: ResourceRef = {
  apiVersion: "v1",
  kind: "ServiceAccount",
  plural: "serviceaccounts",
};
export const POD_DISRUPTION_BUDGET: ResourceRef = {
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  plural: "poddisruptionbudgets",
};
export const HORIZONTAL_POD_AUTOSCALER: ResourceRef = {
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  plural: "horizontalpodautoscalers",
};
export const NETWORK_POLICY: ResourceRef = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  plural: "networkpolicies",
};

export const JOB: ResourceRef = { apiVersion: "batch/v1", kind: "Job", plural: "jobs" };

export const MODEL_CHILDREN = [
  SERVICE_ACCOUNT,
  SERVICE,
  POD_DISRUPTION_BUDGET,
  DEPLOYMENT,
  HORIZONTAL_POD_AUTOSCALER,
];
// Jobs: the backfill of a new generation; its completion wakes the index.
export const INDEX_CHILDREN = [SERVICE, STATEFUL_SET, NETWORK_POLICY, CONFIG_MAP, DEPLOYMENT, JOB];
