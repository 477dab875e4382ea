import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { describe, expect, inject, it } from "vitest";
import {
  adminKubeConfig,
  serviceAccountKubeconfig,
  userKubeconfig,
  writeKubeconfig,
} from "./harness/index.js";

const cp = inject("controlPlane");
const NAMESPACE = "smoke-control-plane";

function coreFor(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc.makeApiClient(CoreV1Api);
}

/** The HTTP status of a failed call, or 200 when it succeeded: lets one assertion show both cases. */
async function statusOf(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
}

describe("control plane", () => {
  it("when the admin creates a namespace, then it can read it back", async () => {
    const core = adminKubeConfig(cp).makeApiClient(CoreV1Api);
    await core.createNamespace({
      body: { metadata: { name: NAMESPACE, labels: { "embedops.dev/test": "smoke" } } },
    });
    const ns = await core.readNamespace({ name: NAMESPACE });
    expect(ns.metadata?.labels?.["embedops.dev/test"]).toBe("smoke");
  });

  it("when a ServiceAccount has no RBAC binding, then listing namespaces is forbidden, not unauthorized", async () => {
    const sa = await serviceAccountKubeconfig(cp, { namespace: NAMESPACE, name: "no-permissions" });
    // 403 (authenticated, denied) rather than 401 proves the token is valid and RBAC said no.
    expect(await statusOf(() => coreFor(sa.kubeconfigPath).listNamespace())).toBe(403);
    expect(await statusOf(() => coreFor(cp.adminKubeconfigPath).listNamespace())).toBe(200);
  });

  it("when a ServiceAccount is bound to a ClusterRole, then it gets exactly that permission", async () => {
    const rbac = adminKubeConfig(cp).makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: "smoke-namespace-lister" },
        rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["list"] }],
      },
    });
    const sa = await serviceAccountKubeconfig(cp, {
      namespace: NAMESPACE,
      name: "lister",
      clusterRole: "smoke-namespace-lister",
    });
    const core = coreFor(sa.kubeconfigPath);
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain(NAMESPACE);
    expect(await statusOf(() => core.listNamespacedSecret({ namespace: NAMESPACE }))).toBe(403);
  });

  it("when a token is not one the apiserver issued, then requests are unauthorized", async () => {
    const path = await writeKubeconfig({
      path: `${cp.dir}/bogus.kubeconfig`,
      url: cp.url,
      caData: cp.caData,
      credentials: { token: "not-a-real-token" },
    });
    expect(await statusOf(() => coreFor(path).listNamespace())).toBe(401);
  });

  it("when a user has a client certificate, then its groups decide what it may do", async () => {
    const alice = await userKubeconfig(cp, "alice", ["dev"]);
    const root = await userKubeconfig(cp, "root-user", ["system:masters"]);
    expect(await statusOf(() => coreFor(alice).listNamespace())).toBe(403);
    expect(await statusOf(() => coreFor(root).listNamespace())).toBe(200);
  });

  it("when kubectl uses the admin kubeconfig, then `kubectl version -o json` reports the server", async () => {
    const { stdout } = await promisify(execFile)("kubectl", [
      "--kubeconfig",
      cp.adminKubeconfigPath,
      "version",
      "-o",
      "json",
    ]);
    const version = JSON.parse(stdout) as { serverVersion?: { gitVersion?: string } };
    expect(version.serverVersion?.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    expect(cp.version).toContain(version.serverVersion?.gitVersion);
  });
});
