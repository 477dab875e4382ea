import { readdir, readFile } from "node:fs/promises";
import type { KubernetesObject } from "@kubernetes/client-node";
import { Watch } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Informer, type WatchLike } from "../../src/kube/informer.js";
import { adminClients, cp, eventually, namespace } from "./kube-helpers.js";

/**
 * Compacts etcd's history up to now, as the API server does every 5 minutes in a real cluster,
 * so a watch from an old resourceVersion gets a genuine 410 Gone. The harness does not publish
 * etcd's URL, so it is read from the command line of the etcd whose data dir is in cp.dir (Linux).
 */
async function compactEtcd(): Promise<void> {
  let url: string | undefined;
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const args = await readFile(`/proc/${pid}/cmdline`, "utf8").then(
      (t) => t.split("\0"),
      (): string[] => [],
    );
    if (!args.includes(`--data-dir=${cp.dir}/etcd-data`)) continue;
    url = args.find((a) => a.startsWith("--listen-client-urls="))?.slice("--listen-client-urls=".length);
  }
  if (!url) throw new Error(`no etcd process with --data-dir=${cp.dir}/etcd-data found in /proc`);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { header?: { revision?: string } };
  };
  const { header } = await post("/v3/kv/range", { key: Buffer.from("/").toString("base64") });
  await post("/v3/kv/compaction", { revision: header?.revision, physical: true });
}

const CONFIGMAPS = { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps" } as const;

function recordEvents(informer: Informer) {
  const seen: string[] = [];
  informer.on({
    add: (o) => seen.push(`add ${o.metadata?.name}`),
    update: (o) => seen.push(`update ${o.metadata?.name}`),
    delete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  return seen;
}

describe("informer against a real API server", () => {
  it("when objects are created, updated and deleted, then handlers see add, update and delete and the cache follows", async () => {
    const ns = await namespace("kube-informer-events");
    const clients = adminClients();
    await clients.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "before" } } });
    const informer = new Informer({
      resource: CONFIGMAPS,
      kubeConfig: clients.kubeConfig,
      objects: clients.objects,
      namespace: ns,
    });
    const seen = recordEvents(informer);
    informer.start();
    await informer.waitForSync();
    expect(seen).toContain("add before");
    expect(informer.get(ns, "before")?.kind).toBe("ConfigMap");

    await clients.core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "w" }, data: { a: "1" } },
    });
    await eventually("add w", () => seen.includes("add w") || undefined);
    await clients.core.replaceNamespacedConfigMap({
      name: "w",
      namespace: ns,
      body: { metadata: { name: "w" }, data: { a: "2" } },
    });
    await eventually("update w", () => seen.includes("update w") || undefined);
    expect((informer.get(ns, "w") as KubernetesObject & { data?: Record<string, string> }).data).toEqual({
      a: "2",
    });
    await clients.core.deleteNamespacedConfigMap({ name: "w", namespace: ns });
    await eventually("delete w", () => seen.includes("delete w") || undefined);
    expect(informer.get(ns, "w")).toBeUndefined();
    expect(informer.relists).toBe(1);
    await informer.stop();
  });

  // Skipped, open: against v1.36.3 even a compacted etcd did not make the API server answer a
  // watch from resourceVersion 1 with 410 (its watch cache accepted it and sent nothing), so this
  // cannot yet provoke a real 410. The relist path is covered by diffRelist's unit tests.
  it.skip("when the watch resumes from an expired resourceVersion (410 Gone), then the informer relists and misses nothing", async () => {
    const ns = await namespace("kube-informer-relist");
    const clients = adminClients();
    const real = new Watch(clients.kubeConfig);
    let expire = false;
    let current: AbortController | undefined;
    // Stands in for a dropped connection plus a compacted etcd: after the test aborts the stream,
    // the informer's resume asks for resourceVersion 1, long gone.
    const watch: WatchLike = {
      watch: async (path, query, cb, done) => {
        const q = expire ? { ...query, resourceVersion: "1" } : query;
        expire = false;
        current = await real.watch(path, q, cb, done);
        return current;
      },
    };
    const informer = new Informer({
      resource: CONFIGMAPS,
      kubeConfig: clients.kubeConfig,
      objects: clients.objects,
      namespace: ns,
      watch,
    });
    const seen = recordEvents(informer);
    informer.start();
    await informer.waitForSync();
    await clients.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "x" } } });
    await eventually("add x", () => seen.includes("add x") || undefined);

    await compactEtcd();
    expire = true;
    current?.abort();
    // Created while no watch runs: only the relist can report it.
    await clients.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "y" } } });
    await eventually("the informer to relist", () => (informer.relists > 1 ? true : undefined));
    await eventually("add y", () => seen.includes("add y") || undefined);
    expect(informer.get(ns, "y")).toBeDefined();
    await informer.stop();
  });
});
