// Shared setup of the operator scenarios: CRDs and the chart's ClusterRole installed as an admin
// would, the operator run in-process as its ServiceAccount (bound to exactly that ClusterRole), and
// the kubelet's part played by the test where a workload must be ready.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ApiException,
  AppsV1Api,
  CustomObjectsApi,
  KubeConfig,
  type KubernetesObject,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
} from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import type { FingerprintProbe } from "../../controllers/embedding-model/fingerprint-probe.js";
import type { GenerationProbe } from "../../controllers/vector-index/generation-probe.js";
import type { ReplicaIo } from "../../controllers/vector-index/replica-io.js";
import { operatorOptions } from "../../src/cli/operator.js";
import { makeClients, RequestCounter } from "../../src/kube/client.js";
import { OperatorRuntime } from "../../src/kube/operator-runtime.js";
import { createLogger } from "../../src/util/log.js";
import { EncoderStandIn } from "./encoder-stand-in.js";
import {
  adminKubeConfig,
  type ControlPlaneCoordinates,
  ensureNamespace,
  serviceAccountKubeconfig,
} from "./harness/index.js";

const ROOT = join(import.meta.dirname, "..", "..");
export const OPERATOR_NAMESPACE = "embedops-system";
export const CLUSTER_ROLE = "embedops-operator";
export const TEST_IMAGE = "embedops-test:dev";

async function ignoreConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * `kubectl apply -f crds/`, as a user installs them. (The typed client's CRD model would drop
 * x-kubernetes-* keys written in YAML spelling, so it cannot send these files.)
 */
export async function installCrds(cp: ControlPlaneCoordinates): Promise<void> {
  const applied = await kubectl(cp, ["apply", "-f", join(ROOT, "crds")]);
  if (applied.code !== 0) throw new Error(`kubectl apply -f crds/ failed: ${applied.stderr}`);
  const waited = await kubectl(cp, [
    "wait",
    "--for=condition=Established",
    "--timeout=30s",
    "-f",
    join(ROOT, "crds"),
  ]);
  if (waited.code !== 0) throw new Error(`CRDs did not become Established: ${waited.stderr}`);
}

/**
 * The ClusterRoles of deploy/rbac/ (the operator's and the snapshot runner's, which the operator
 * binds per index), the same rules the Helm chart grants.
 */
export async function installClusterRole(cp: ControlPlaneCoordinates): Promise<void> {
  const rbac = adminKubeConfig(cp).makeApiClient(RbacAuthorizationV1Api);
  for (const file of ["clusterrole.yaml", "snapshot-runner-clusterrole.yaml"]) {
    const role = parse(readFileSync(join(ROOT, "deploy", "rbac", file), "utf8")) as V1ClusterRole;
    await ignoreConflict(() => rbac.createClusterRole({ body: role }));
  }
}

/** Stands in for GET /info of an encoder pod (no pods run here): a fixed fingerprint per model. */
export const fakeEncoderProbe: FingerprintProbe = async (model) => ({
  fingerprint: createHash("sha256").update(`model:${model}`).digest("hex"),
  dimension: 384,
});

/** The analysis interval of the operators the tests start (the CRD's minimum is 10 s). */
export const TEST_INTERVAL_SECONDS = 1;

export interface RunningOperator {
  readonly runtime: OperatorRuntime;
  readonly counter: RequestCounter;
  stop(): Promise<void>;
}

export interface StartOperatorOptions {
  readonly namespace: string;
  readonly leaseName?: string;
  readonly identity?: string;
  readonly leaderElection?: boolean;
  /** 0 disables the resync, so only watch events reconcile. Default 2000. */
  readonly resyncPeriodMs?: number;
  /** Default fakeEncoderProbe. */
  readonly probe?: FingerprintProbe;
  /** /metrics and probe traffic of every revision; default a stand-in whose revisions are all fast. */
  readonly encoders?: EncoderStandIn;
  /** Default TEST_INTERVAL_SECONDS. */
  readonly intervalSeconds?: number;
  /** Routers, backfill record, recall gate and canary of generation moves; default HTTP (unreachable here). */
  readonly generations?: GenerationProbe;
  /** New replicas' readiness, seed watermark and catch-up; default HTTP (unreachable here). */
  readonly replicas?: ReplicaIo;
}

let serviceAccountKubeconfigPath: string | undefined;

export async function startOperator(
  cp: ControlPlaneCoordinates,
  o: StartOperatorOptions,
): Promise<RunningOperator> {
  serviceAccountKubeconfigPath ??= (
    await serviceAccountKubeconfig(cp, {
      namespace: OPERATOR_NAMESPACE,
      name: "embedops-operator",
      clusterRole: CLUSTER_ROLE,
    })
  ).kubeconfigPath;
  const kc = new KubeConfig();
  kc.loadFromFile(serviceAccountKubeconfigPath);
  const counter = new RequestCounter();
  const encoders = o.encoders ?? new EncoderStandIn();
  const runtime = new OperatorRuntime(
    operatorOptions({
      clients: makeClients(kc, { middleware: [counter.middleware] }),
      image: TEST_IMAGE,
      namespace: o.namespace,
      leaderElection:
        o.leaderElection === false
          ? false
          : {
              namespace: OPERATOR_NAMESPACE,
              name: o.leaseName ?? `embedops-${o.namespace}`,
              ...(o.identity ? { identity: o.identity } : {}),
              leaseDurationMs: 4000,
              renewDeadlineMs: 3000,
              retryPeriodMs: 500,
            },
      metricsPort: 0,
      healthPort: 0,
      resyncPeriodMs: o.resyncPeriodMs ?? 2000,
      probe: o.probe ?? encoders.probe,
      rollout: {
        scrape: encoders.scrape,
        sendProbe: encoders.sendProbe,
        maxIntervalSeconds: o.intervalSeconds ?? TEST_INTERVAL_SECONDS,
      },
      ...(o.generations ? { generations: o.generations } : {}),
      ...(o.replicas ? { replicas: o.replicas } : {}),
      log: createLogger({ test: o.identity ?? o.namespace }),
    }),
  );
  await runtime.start();
  return { runtime, counter, stop: () => runtime.stop() };
}

export async function setUpCluster(cp: ControlPlaneCoordinates, namespace: string): Promise<void> {
  await installCrds(cp);
  await installClusterRole(cp);
  await ensureNamespace(cp, OPERATOR_NAMESPACE);
  await ensureNamespace(cp, namespace);
}

/** kubectl as the admin user: what a platform engineer runs. */
export async function kubectl(
  cp: ControlPlaneCoordinates,
  args: string[],
  input?: string,
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", cp.adminKubeconfigPath, ...args],
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}
export const execFileAsync = promisify(execFile);

export function custom(cp: ControlPlaneCoordinates): CustomObjectsApi {
  return adminKubeConfig(cp).makeApiClient(CustomObjectsApi);
}

export interface Cond {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** A custom object as the tests read it. */
export interface CustomView {
  readonly metadata: {
    readonly uid: string;
    readonly resourceVersion: string;
    readonly generation?: number;
    readonly finalizers?: string[];
    readonly deletionTimestamp?: string;
  };
  readonly spec: Record<string, unknown>;
  readonly status?: { readonly conditions?: Cond[]; readonly [field: string]: unknown };
}

export async function getCustom(
  cp: ControlPlaneCoordinates,
  namespace: string,
  plural: "embeddingmodels" | "vectorindexes",
  name: string,
): Promise<CustomView | undefined> {
  try {
    return (await custom(cp).getNamespacedCustomObject({
      group: "embedops.dev",
      version: "v1alpha1",
      namespace,
      plural,
      name,
    })) as CustomView;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

export function conditionOf(obj: CustomView | undefined, type: string): Cond | undefined {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/**
 * No kubelet or controller-manager runs here: mark a Deployment or StatefulSet rolled out the way
 * the Deployment/StatefulSet controllers would once the kubelet reports the pods ready.
 */
export async function markWorkloadReady(
  cp: ControlPlaneCoordinates,
  kind: "Deployment" | "StatefulSet",
  namespace: string,
  name: string,
): Promise<void> {
  const apps = adminKubeConfig(cp).makeApiClient(AppsV1Api);
  if (kind === "Deployment") {
    const d = await apps.readNamespacedDeployment({ name, namespace });
    const n = d.spec?.replicas ?? 1;
    d.status = {
      observedGeneration: d.metadata?.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
    };
    await apps.replaceNamespacedDeploymentStatus({ name, namespace, body: d });
  } else {
    const s = await apps.readNamespacedStatefulSet({ name, namespace });
    const n = s.spec?.replicas ?? 1;
    s.status = {
      observedGeneration: s.metadata?.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      currentReplicas: n,
      availableReplicas: n,
    };
    await apps.replaceNamespacedStatefulSetStatus({ name, namespace, body: s });
  }
}

/**
 * The name of a model's encoder Deployment: `<model>-encoder-<revision>`, with the revision the
 * model reports (status.revision), or the only revision when none is reported yet.
 */
export async function encoderDeploymentName(
  cp: ControlPlaneCoordinates,
  namespace: string,
  model: string,
  revision?: string,
): Promise<string> {
  const apps = adminKubeConfig(cp).makeApiClient(AppsV1Api);
  return waitFor(`encoder Deployment of ${model}${revision ? ` revision ${revision}` : ""}`, async () => {
    const list = await apps.listNamespacedDeployment({
      namespace,
      labelSelector: `embedops.dev/model=${model},embedops.dev/role=encoder`,
    });
    const names = list.items
      .filter((d) => revision === undefined || d.metadata?.labels?.["embedops.dev/revision"] === revision)
      .map((d) => d.metadata?.name ?? "");
    return names.length === 1 ? names[0] : undefined;
  });
}

/** Documents of an example file, kind and name. */
export function exampleObjects(file: string): KubernetesObject[] {
  return parseAllDocuments(readFileSync(join(ROOT, "examples", file), "utf8"))
    .map((d) => d.toJS() as KubernetesObject)
    .filter((o) => o !== null);
}
export const examplePath = (file: string): string => join(ROOT, "examples", file);
