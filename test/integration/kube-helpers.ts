// Shared by the kube-*.test.ts files: clients on the harness's API server and a bounded poll.
// A poll's limit is a failure bound, never an assertion about how long something took.
import { ApiextensionsV1Api, type KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import { type KubeClients, makeClients, RequestCounter } from "../../src/kube/client.js";
import { adminKubeConfig, ensureNamespace } from "./harness/index.js";

export const cp = inject("controlPlane");

export interface TestClients extends KubeClients {
  readonly counter: RequestCounter;
}

export function adminClients(): TestClients {
  const counter = new RequestCounter();
  const kc: KubeConfig = adminKubeConfig(cp);
  return { ...makeClients(kc, { middleware: [counter.middleware] }), counter };
}

export async function namespace(name: string): Promise<string> {
  await ensureNamespace(cp, name);
  return name;
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  limitMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A namespaced test kind with a status subresource, independent of the real embedops CRDs. */
export const WIDGET = {
  apiVersion: "kubetest.embedops.dev/v1",
  kind: "Widget",
  plural: "widgets",
} as const;

export async function ensureWidgetCrd(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const name = "widgets.kubetest.embedops.dev";
  try {
    await api.readCustomResourceDefinition({ name });
  } catch {
    await api.createCustomResourceDefinition({
      body: {
        metadata: { name },
        spec: {
          group: "kubetest.embedops.dev",
          scope: "Namespaced",
          names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: { type: "object", properties: { size: { type: "integer" } } },
                    status: { type: "object", x_kubernetes_preserve_unknown_fields: true },
                  },
                },
              },
            },
          ],
        },
      },
    });
  }
  // The API server serves a new CRD only after it is Established.
  await eventually("the Widget CRD to be established", async () => {
    const crd = await api.readCustomResourceDefinition({ name });
    return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") || undefined;
  });
}
