// The operator against a real kube-apiserver, authenticated as its ServiceAccount with exactly the
// chart's ClusterRole. No kubelet and no controller-manager run: where a workload must be ready the
// test writes its status as those would (markWorkloadReady), and no garbage collector deletes
// children of a deleted owner (so the test checks their owner references instead).
import {
  AppsV1Api,
  CoreV1Api,
  EventsV1Api,
  type KubernetesObject,
  NetworkingV1Api,
  PolicyV1Api,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generationName } from "../../src/core/generation.js";
import { adminKubeConfig } from "./harness/index.js";
import {
  conditionOf,
  encoderDeploymentName,
  examplePath,
  fakeEncoderProbe,
  getCustom,
  kubectl,
  markWorkloadReady,
  type RunningOperator,
  setUpCluster,
  startOperator,
  TEST_IMAGE,
  waitFor,
} from "./operator-harness.js";

const cp = inject("controlPlane");
const NS = "op-reconcile";
const kc = adminKubeConfig(cp);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
let operator: RunningOperator;
let generation = "";
/** The generated router key, read once it exists; the steady state must keep it. */
let authKey = "";

const controllerRef = (obj: KubernetesObject): V1OwnerReference | undefined =>
  obj.metadata?.ownerReferences?.find((r) => r.controller === true);

async function markIndexReady(replicasFrom = "docs"): Promise<void> {
  for (const shard of ["shard-0", "shard-1"]) {
    await markWorkloadReady(cp, "StatefulSet", NS, `${replicasFrom}-${generation}-${shard}`);
  }
  await markWorkloadReady(cp, "Deployment", NS, `${replicasFrom}-router`);
}

beforeAll(async () => {
  await setUpCluster(cp, NS);
  operator = await startOperator(cp, { namespace: NS });
  generation = generationName((await fakeEncoderProbe("minilm", NS)).fingerprint);
});

afterAll(async () => {
  await operator?.stop();
});

describe("operator: the quickstart example", () => {
  it("when examples/quickstart.yaml is applied, then the encoder children exist with owner references and the spec's runtime", async () => {
    const applied = await kubectl(cp, ["-n", NS, "apply", "-f", examplePath("quickstart.yaml")]);
    expect(applied.stderr).toBe("");
    const model = await waitFor("EmbeddingModel minilm", () =>
      getCustom(cp, NS, "embeddingmodels", "minilm"),
    );
    const name = await encoderDeploymentName(cp, NS, "minilm");
    const d = await apps.readNamespacedDeployment({ name, namespace: NS });
    const revision = d.metadata?.labels?.["embedops.dev/revision"] ?? "";
    expect(name).toBe(`minilm-encoder-${revision}`);
    const children: KubernetesObject[] = [
      d,
      await core.readNamespacedService({ name: "minilm-encoder", namespace: NS }),
      await core.readNamespacedService({ name, namespace: NS }),
      await core.readNamespacedServiceAccount({ name: "minilm-encoder", namespace: NS }),
      await kc
        .makeApiClient(PolicyV1Api)
        .readNamespacedPodDisruptionBudget({ name: "minilm-encoder", namespace: NS }),
    ];
    for (const child of children) {
      expect(controllerRef(child)).toMatchObject({
        kind: "EmbeddingModel",
        name: "minilm",
        uid: model.metadata.uid,
        controller: true,
      });
    }
    const container = d.spec?.template.spec?.containers[0];
    expect(container?.image).toBe(TEST_IMAGE);
    expect(container?.args).toEqual(
      expect.arrayContaining([
        "--model-dir",
        "models/all-minilm-l6-v2",
        "--threads",
        "2",
        "--revision",
        revision,
      ]),
    );
    expect(d.spec?.replicas).toBe(1);
    const refreshed = await getCustom(cp, NS, "embeddingmodels", "minilm");
    expect(refreshed?.metadata.finalizers).toContain("embedops.dev/finalizer");
  });

  it("when the encoder is not rolled out yet, then the index waits for the model's fingerprint and builds nothing", async () => {
    const vi = await waitFor("VectorIndex ModelResolved condition", async () => {
      const obj = await getCustom(cp, NS, "vectorindexes", "docs");
      return conditionOf(obj, "ModelResolved") ? obj : undefined;
    });
    expect(conditionOf(vi, "ModelResolved")).toMatchObject({
      status: "False",
      reason: "WaitingForFingerprint",
    });
    expect(conditionOf(vi, "Ready")?.status).toBe("False");
    const sts = await apps.listNamespacedStatefulSet({ namespace: NS });
    expect(sts.items).toEqual([]);
  });

  it("when the encoder Deployment becomes ready (status written as the kubelet would), then the model reports its fingerprint and is Ready", async () => {
    await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, "minilm"));
    const model = await waitFor("EmbeddingModel Ready", async () => {
      const obj = await getCustom(cp, NS, "embeddingmodels", "minilm");
      return conditionOf(obj, "Ready")?.status === "True" ? obj : undefined;
    });
    const expected = (await fakeEncoderProbe("minilm", NS)).fingerprint;
    expect(model.status).toMatchObject({
      fingerprint: expected,
      fingerprintShort: expected.slice(0, 12),
      phase: "Ready",
    });
    expect(model.status?.["observedGeneration"]).toBe(model.metadata.generation);
  });

  it("when the model is resolved, then each shard has a StatefulSet and headless Service, plus router, config and NetworkPolicy, all owned by the index", async () => {
    const vi = await waitFor("VectorIndex", () => getCustom(cp, NS, "vectorindexes", "docs"));
    const names = ["shard-0", "shard-1"].map((s) => `docs-${generation}-${s}`);
    for (const name of names) {
      const sts = await waitFor(`StatefulSet ${name}`, () =>
        apps.readNamespacedStatefulSet({ name, namespace: NS }),
      );
      expect(controllerRef(sts)).toMatchObject({ kind: "VectorIndex", name: "docs", uid: vi.metadata.uid });
      expect(sts.spec?.serviceName).toBe(name);
      expect(sts.spec?.template.metadata?.labels).toMatchObject({
        "embedops.dev/generation": generation,
        "embedops.dev/role": "shard",
      });
      const svc = await core.readNamespacedService({ name, namespace: NS });
      expect(svc.spec?.clusterIP).toBe("None");
      expect(controllerRef(svc)?.uid).toBe(vi.metadata.uid);
    }
    const router = await waitFor("router", () =>
      apps.readNamespacedDeployment({ name: "docs-router", namespace: NS }),
    );
    expect(controllerRef(router)?.uid).toBe(vi.metadata.uid);
    const cm = await core.readNamespacedConfigMap({ name: "docs-router", namespace: NS });
    const config = JSON.parse(cm.data?.["router.json"] ?? "{}");
    expect(config).toMatchObject({ index: "docs", generation, dimension: 384, metric: "cosine" });
    expect(config.shards[0].replicas).toEqual([`http://${names[0]}-0.${names[0]}.${NS}.svc:8080`]);
    const np = await kc
      .makeApiClient(NetworkingV1Api)
      .readNamespacedNetworkPolicy({ name: "docs-shards", namespace: NS });
    expect(controllerRef(np)?.uid).toBe(vi.metadata.uid);
  });

  it("when the index is created, then its auth Secret holds a random key, is owned by the index, and the router mounts it", async () => {
    const vi = await waitFor("VectorIndex", () => getCustom(cp, NS, "vectorindexes", "docs"));
    const secret = await waitFor("Secret docs-auth", () =>
      core.readNamespacedSecret({ name: "docs-auth", namespace: NS }),
    );
    expect(controllerRef(secret)).toMatchObject({ kind: "VectorIndex", name: "docs", uid: vi.metadata.uid });
    authKey = Buffer.from(secret.data?.["api-key"] ?? "", "base64").toString("utf8");
    expect(authKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const pod = (await apps.readNamespacedDeployment({ name: "docs-router", namespace: NS })).spec?.template
      .spec;
    const args = pod?.containers[0]?.args ?? [];
    expect(args[args.indexOf("--api-key-file") + 1]).toBe("/etc/embedops/auth/api-keys");
    expect(pod?.volumes?.find((v) => v.name === "auth")?.secret).toMatchObject({
      secretName: "docs-auth",
      items: [{ key: "api-key", path: "api-keys" }],
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      name: "auth",
      mountPath: "/etc/embedops/auth",
      readOnly: true,
    });
  });

  it("when shards and router become ready (status written as the kubelet would), then the index is Ready with its generation", async () => {
    await markIndexReady();
    const vi = await waitFor("VectorIndex Ready", async () => {
      const obj = await getCustom(cp, NS, "vectorindexes", "docs");
      return conditionOf(obj, "Ready")?.status === "True" ? obj : undefined;
    });
    expect(vi.status).toMatchObject({ activeGeneration: generation, phase: "Ready" });
    expect(conditionOf(vi, "ModelResolved")?.status).toBe("True");
    // The Ready Event is recorded after the status write the loop above saw, so wait for it too.
    const reasons = await waitFor("VectorIndex Ready Event", async () => {
      const events = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
      const seen = events.items.filter((e) => e.regarding?.name === "docs").map((e) => e.reason ?? "");
      return seen.includes("Ready") ? seen : undefined;
    });
    expect(reasons).toEqual(expect.arrayContaining(["Created", "Ready"]));
  });
});

describe("operator: edits converge", () => {
  it("when the model's replicas and threads are edited, then a candidate revision runs beside the stable, passes its checks and replaces it", async () => {
    const stable = (await getCustom(cp, NS, "embeddingmodels", "minilm"))?.status?.["revision"] as string;
    const r = await kubectl(cp, [
      "-n",
      NS,
      "patch",
      "em",
      "minilm",
      "--type",
      "merge",
      "-p",
      '{"spec":{"runtime":{"replicas":2,"threads":4}}}',
    ]);
    expect(r.code).toBe(0);
    const canary = await waitFor("a candidate revision", async () => {
      const em = await getCustom(cp, NS, "embeddingmodels", "minilm");
      const c = em?.status?.["canary"] as { revision: string; phase: string } | undefined;
      return c && c.revision !== stable ? c : undefined;
    });
    const name = `minilm-encoder-${canary.revision}`;
    const d = await waitFor("candidate Deployment with 2 replicas and 4 threads", async () => {
      const got = await apps.readNamespacedDeployment({ name, namespace: NS });
      const args = got.spec?.template.spec?.containers[0]?.args ?? [];
      return got.spec?.replicas === 2 && args[args.indexOf("--threads") + 1] === "4" ? got : undefined;
    });
    const args = d.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args[args.indexOf("--revision") + 1]).toBe(canary.revision);
    expect(d.spec?.template.metadata?.annotations?.["embedops.dev/revision"]).toBe(canary.revision);
    // The stable keeps running untouched while the candidate is judged.
    expect(
      (await apps.readNamespacedDeployment({ name: `minilm-encoder-${stable}`, namespace: NS })).spec
        ?.replicas,
    ).toBe(1);
    await markWorkloadReady(cp, "Deployment", NS, name);
    await waitFor(
      "the candidate promoted and the old revision removed",
      async () => {
        const em = await getCustom(cp, NS, "embeddingmodels", "minilm");
        const gone = await apps
          .readNamespacedDeployment({ name: `minilm-encoder-${stable}`, namespace: NS })
          .then(
            () => false,
            () => true,
          );
        return em?.status?.["revision"] === canary.revision && gone ? true : undefined;
      },
      30_000,
    );
  });

  it("when the index's replicas are edited, then the StatefulSets and the router config follow", async () => {
    const r = await kubectl(cp, [
      "-n",
      NS,
      "patch",
      "vi",
      "docs",
      "--type",
      "merge",
      "-p",
      '{"spec":{"replicas":2}}',
    ]);
    expect(r.code).toBe(0);
    const name = `docs-${generation}-shard-1`;
    await waitFor("StatefulSet with 2 replicas", async () => {
      const sts = await apps.readNamespacedStatefulSet({ name, namespace: NS });
      return sts.spec?.replicas === 2 || undefined;
    });
    // The ConfigMap is applied after the StatefulSets in the same reconcile: wait for it too.
    const replicas = await waitFor("router config with 2 replicas per shard", async () => {
      const cm = await core.readNamespacedConfigMap({ name: "docs-router", namespace: NS });
      const urls: string[] = JSON.parse(cm.data?.["router.json"] ?? "{}").shards[1].replicas;
      return urls.length === 2 ? urls : undefined;
    });
    expect(replicas[1]).toBe(`http://${name}-1.${name}.${NS}.svc:8080`);
  });
});

describe("operator: steady state", () => {
  it("when nothing changes over several resyncs, then the operator writes nothing and no resourceVersion moves", async () => {
    await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, "minilm"));
    await markIndexReady();
    await waitFor("both Ready", async () => {
      const em = await getCustom(cp, NS, "embeddingmodels", "minilm");
      const vi = await getCustom(cp, NS, "vectorindexes", "docs");
      return conditionOf(em, "Ready")?.status === "True" && conditionOf(vi, "Ready")?.status === "True"
        ? true
        : undefined;
    });
    // Let the reconciles triggered by the status writes above finish before measuring.
    await new Promise((r) => setTimeout(r, 3000));
    const versions = async () => {
      const all = [
        ...(await apps.listNamespacedDeployment({ namespace: NS })).items,
        ...(await apps.listNamespacedStatefulSet({ namespace: NS })).items,
        ...(await core.listNamespacedService({ namespace: NS })).items,
        ...(await core.listNamespacedConfigMap({ namespace: NS })).items,
        ...(await core.listNamespacedServiceAccount({ namespace: NS })).items,
        ...(await core.listNamespacedSecret({ namespace: NS })).items,
      ].map((o) => `${o.kind ?? ""}/${o.metadata?.name}@${o.metadata?.resourceVersion}`);
      const em = await getCustom(cp, NS, "embeddingmodels", "minilm");
      const vi = await getCustom(cp, NS, "vectorindexes", "docs");
      return [...all, `em@${em?.metadata.resourceVersion}`, `vi@${vi?.metadata.resourceVersion}`].sort();
    };
    const before = await versions();
    const reconcilesBefore = await reconcileCount();
    operator.counter.reset();
    await new Promise((r) => setTimeout(r, 5000)); // resyncPeriodMs is 2000: at least two resyncs
    expect(await reconcileCount()).toBeGreaterThan(reconcilesBefore);
    const writes = operator.counter.writes().filter((w) => !w.url.includes("/leases/"));
    expect(writes).toEqual([]);
    expect(await versions()).toEqual(before);
    const secret = await core.readNamespacedSecret({ name: "docs-auth", namespace: NS });
    expect(Buffer.from(secret.data?.["api-key"] ?? "", "base64").toString("utf8")).toBe(authKey);
  });
});

describe("operator: the auth Secret", () => {
  it("when the generated auth Secret is deleted, then the operator makes a new key (how to rotate it)", async () => {
    expect((await kubectl(cp, ["-n", NS, "delete", "secret", "docs-auth"])).code).toBe(0);
    const secret = await waitFor("a new Secret docs-auth", () =>
      core.readNamespacedSecret({ name: "docs-auth", namespace: NS }),
    );
    const key = Buffer.from(secret.data?.["api-key"] ?? "", "base64").toString("utf8");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(authKey);
  });
});

async function reconcileCount(): Promise<number> {
  const metric = await operator.runtime.metrics.reconcileTotal.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

describe("operator: invalid and inconsistent specs", () => {
  it("when a VectorIndex violates the schema, then the API server rejects it naming the field", async () => {
    const bad =
      "apiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: bad}\nspec: {modelRef: {name: minilm}, shards: 0}\n";
    const r = await kubectl(cp, ["-n", NS, "apply", "-f", "-"], bad);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.shards");
  });

  it("when a VectorIndex names a missing model, then ModelResolved is False with ModelNotFound", async () => {
    const y =
      "apiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: orphan}\nspec: {modelRef: {name: nope}}\n";
    expect((await kubectl(cp, ["-n", NS, "apply", "-f", "-"], y)).code).toBe(0);
    const vi = await waitFor("ModelNotFound", async () => {
      const obj = await getCustom(cp, NS, "vectorindexes", "orphan");
      return conditionOf(obj, "ModelResolved")?.reason === "ModelNotFound" ? obj : undefined;
    });
    expect(conditionOf(vi, "ModelResolved")?.message).toContain('EmbeddingModel "nope" not found');
    expect(conditionOf(vi, "Ready")).toMatchObject({ status: "False", reason: "ModelNotFound" });
  });

  it("when a VectorIndex's dimension differs from its model's, then it reports DimensionMismatch and InvalidSpec", async () => {
    const y =
      "apiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: wide}\nspec: {modelRef: {name: minilm}, dimension: 768}\n";
    expect((await kubectl(cp, ["-n", NS, "apply", "-f", "-"], y)).code).toBe(0);
    const vi = await waitFor("DimensionMismatch", async () => {
      const obj = await getCustom(cp, NS, "vectorindexes", "wide");
      return conditionOf(obj, "ModelResolved")?.reason === "DimensionMismatch" ? obj : undefined;
    });
    expect(conditionOf(vi, "InvalidSpec")).toMatchObject({ status: "True", reason: "DimensionMismatch" });
    expect(
      (await apps.listNamespacedStatefulSet({ namespace: NS, labelSelector: "embedops.dev/index=wide" }))
        .items,
    ).toEqual([]);
  });
});

describe("operator: deletion", () => {
  it("when the index is deleted, then the operator removes its finalizer and the children keep their owner references for the GC", async () => {
    const vi = await getCustom(cp, NS, "vectorindexes", "docs");
    expect(vi?.metadata.finalizers).toContain("embedops.dev/finalizer");
    const r = await kubectl(cp, ["-n", NS, "delete", "vi", "docs", "--wait=false"]);
    expect(r.code).toBe(0);
    await waitFor("VectorIndex gone", async () =>
      (await getCustom(cp, NS, "vectorindexes", "docs")) === undefined ? true : undefined,
    );
    const sts = await apps.readNamespacedStatefulSet({ name: `docs-${generation}-shard-0`, namespace: NS });
    expect(controllerRef(sts)).toMatchObject({
      kind: "VectorIndex",
      uid: vi?.metadata.uid,
      blockOwnerDeletion: true,
    });
  });
});
