import { join } from "node:path";
import {
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1PolicyRule,
} from "@kubernetes/client-node";
import { makeClientCert } from "./certs.js";
import type { ControlPlaneCoordinates } from "./control-plane.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { sleep } from "./processes.js";

export function adminKubeConfig(cp: ControlPlaneCoordinates): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.adminKubeconfigPath);
  return kc;
}

/** Create calls in helpers are idempotent: tests share one control plane and may repeat setup. */
async function ignoreConflict(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

export async function ensureNamespace(cp: ControlPlaneCoordinates, name: string): Promise<void> {
  const core = adminKubeConfig(cp).makeApiClient(CoreV1Api);
  await ignoreConflict(() => core.createNamespace({ body: { metadata: { name } } }));
}

export interface ServiceAccountTokenOptions {
  readonly namespace: string;
  readonly name: string;
  /** The apiserver enforces a minimum of 600. Default 3600: longer than any test run. */
  readonly expirationSeconds?: number;
}

/**
 * Mints a token through the TokenRequest API (`serviceaccounts/<name>/token`), which the apiserver
 * serves by itself; the token controller that would fill legacy token Secrets does not run here.
 */
export async function serviceAccountToken(
  cp: ControlPlaneCoordinates,
  options: ServiceAccountTokenOptions,
): Promise<string> {
  const core = adminKubeConfig(cp).makeApiClient(CoreV1Api);
  const res = await core.createNamespacedServiceAccountToken({
    name: options.name,
    namespace: options.namespace,
    body: {
      spec: { audiences: [cp.serviceAccountIssuer], expirationSeconds: options.expirationSeconds ?? 3600 },
    },
  });
  const token = res.status?.token;
  if (!token) {
    throw new Error(`TokenRequest for ServiceAccount ${options.namespace}/${options.name} returned no token`);
  }
  return token;
}

export interface ServiceAccountIdentity {
  readonly namespace: string;
  readonly name: string;
  /** e.g. system:serviceaccount:embedops-system:embedops */
  readonly username: string;
  readonly token: string;
  readonly kubeconfigPath: string;
}

export interface ServiceAccountKubeconfigOptions extends ServiceAccountTokenOptions {
  /** Bind the ServiceAccount to exactly this ClusterRole (which must exist). Omit for no permissions. */
  readonly clusterRole?: string;
  readonly kubeconfigPath?: string;
}

/**
 * Creates (if needed) the namespace and ServiceAccount, binds it to `clusterRole`, and writes a
 * kubeconfig that authenticates as that ServiceAccount: the way to run an operator under test with
 * exactly the permissions its chart grants.
 */
export async function serviceAccountKubeconfig(
  cp: ControlPlaneCoordinates,
  options: ServiceAccountKubeconfigOptions,
): Promise<ServiceAccountIdentity> {
  const { namespace, name } = options;
  const kc = adminKubeConfig(cp);
  const core = kc.makeApiClient(CoreV1Api);
  const username = `system:serviceaccount:${namespace}:${name}`;
  await ensureNamespace(cp, namespace);
  await ignoreConflict(() =>
    core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }),
  );

  if (options.clusterRole !== undefined) {
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readClusterRole({ name: options.clusterRole }).catch((err: unknown) => {
      if (err instanceof ApiException && err.code === 404) {
        throw new Error(
          `ClusterRole ${options.clusterRole} does not exist; create it before binding ${username} to it`,
        );
      }
      throw err;
    });
    await ignoreConflict(() =>
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: `embedops-test:${namespace}:${name}:${options.clusterRole}` },
          roleRef: {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
            name: options.clusterRole ?? "",
          },
          subjects: [{ kind: "ServiceAccount", name, namespace }],
        },
      }),
    );
    await waitForBinding(kc, username, namespace, role.rules?.[0]);
  }

  const token = await serviceAccountToken(cp, options);
  const kubeconfigPath = await writeKubeconfig({
    path: options.kubeconfigPath ?? join(cp.dir, `sa-${namespace}-${name}.kubeconfig`),
    url: cp.url,
    caData: cp.caData,
    credentials: { token },
    name: username,
  });
  return { namespace, name, username, token, kubeconfigPath };
}

/**
 * The RBAC authorizer reads bindings from an informer, so a binding takes effect a moment after it
 * is created. Without this wait the first request of a test can get a 403 it would not get later.
 */
async function waitForBinding(
  kc: KubeConfig,
  username: string,
  namespace: string,
  rule: V1PolicyRule | undefined,
): Promise<void> {
  if (rule === undefined) return;
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const verb = rule.verbs[0] ?? "get";
  const groups = ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"];
  const spec = rule.nonResourceURLs?.[0]
    ? { user: username, groups, nonResourceAttributes: { path: rule.nonResourceURLs[0], verb } }
    : {
        user: username,
        groups,
        resourceAttributes: { group: rule.apiGroups?.[0] ?? "", resource: rule.resources?.[0] ?? "", verb },
      };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const review = await authz.createSubjectAccessReview({ body: { spec } });
    if (review.status?.allowed) return;
    if (Date.now() > deadline) {
      throw new Error(
        `ClusterRoleBinding for ${username} did not take effect within 10 s (${JSON.stringify(spec)})`,
      );
    }
    await sleep(100);
  }
}

/**
 * A kubeconfig for an arbitrary user and groups, through a client certificate signed by the test CA
 * (the static token file only holds the admin: it is read once at start).
 */
export async function userKubeconfig(
  cp: ControlPlaneCoordinates,
  user: string,
  groups: readonly string[] = [],
): Promise<string> {
  const safe = user.replace(/[^A-Za-z0-9_.-]/g, "_");
  const cert = await makeClientCert(cp.dir, cp, `user-${safe}`, user, groups);
  return writeKubeconfig({
    path: join(cp.dir, `user-${safe}.kubeconfig`),
    url: cp.url,
    caData: cp.caData,
    credentials: { clientCertFile: cert.certFile, clientKeyFile: cert.keyFile },
    name: user,
  });
}
