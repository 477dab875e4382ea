// Replica seeding in a cluster against a real kube-apiserver: raising a VectorIndex's spec.replicas
// 1 -> 2 lists the new replica as syncing in the router config and changes only the shard
// StatefulSet's replica count (its pod template carries the seed init container from the start, so
// no serving pod rolls); real `embedops shard` processes stand in for the pods (replica 1 filled by
// running `embedops snapshot seed-replica` as a child process against replica 0, as its init
// container would), and the operator's own HTTP calls (replica-io.ts: readiness, seed watermark,
// POST /v1/sync, GET /v1/sync) reach them through a map from the pods' Service URLs to the local
// ones. The routers' part (they list the replica once they load the config) is read from the router
// ConfigMap, which is what a router reloads: no router process runs here.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, EventsV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VectorIndexReconciler } from "../../controllers/vector-index/reconciler.js";
import { httpReplicaIo, type ReplicaIo } from "../../controllers/vector-index/replica-io.js";
import { shardReplicaUrl } from "../../src/builders/shard-service.js";
import { operatorOptions } from "../../src/cli/operator.js";
import { generationName } from "../../src/core/generation.js";
import { makeClients } from "../../src/kube/client.js";
import { OperatorRuntime } from "../../src/kube/operator-runtime.js";
import { createLogger } from "../../src/util/log.js";
import { allIds, call, clustered, type ShardProcess, startShardProcess } from "../dataplane/shard-process.js";
import { EncoderStandIn, modelFingerprint } from "./encoder-stand-in.js";
import { adminKubeConfig, serviceAccountKubeconfig } from "./harness/index.js";
import {
  CLUSTER_ROLE,
  encoderDeploymentName,
  getCustom,
  kubectl,
  markWorkloadReady,
  OPERATOR_NAMESPACE,
  setUpCluster,
  TEST_IMAGE,
  waitFor,
} from "./operator-harness.js";

const cp = inject("controlPlane");
const ROOT = join(import.meta.dirname, "..", "..");
const NS = "op-replicas";
const MODEL = "minilm";
const INDEX = "docs";
const FP = modelFingerprint(MODEL);
const GEN = generationName(FP);
const DIM = 384;
const vectors = clustered(80, DIM, 3);
const admin = adminKubeConfig(cp);
const apps = admin.makeApiClient(AppsV1Api);
const core = admin.makeApiClient(CoreV1Api);
let runtime: OperatorRuntime;
let work: string;
const started: ShardProcess[] = [];
/** Service URL of a pod -> the local shard process standing in for it. */
const local = new Map<string, string>();

const podUrl = (replica: number) => shardReplicaUrl(INDEX, GEN, "shard-0", replica, NS);
const setName = `${INDEX}-${GEN}-shard-0`;

async function routerConfig(): Promise<{
  shards: { name: string; replicas: string[]; syncing?: string[] }[];
}> {
  const cm = await core.readNamespacedConfigMap({ name: `${INDEX}-router`, namespace: NS });
  return JSON.parse(cm.data?.["router.json"] ?? "{}");
}

/** The operator's HTTP to the pods, sent to the local processes; the routers answer from their ConfigMap. */
function localReplicaIo(): ReplicaIo {
  const real = httpReplicaIo();
  const to = (url: string) => {
    const l = local.get(url);
    if (!l) throw new Error(`no pod runs behind ${url} yet`);
    return l;
  };
  return {
    async observe(t) {
      const l = local.get(t.url);
      if (!l) return { ready: false, routersWriteToIt: false };
      const seen = await real.observe({ url: l, routers: [] });
      const listed = (await routerConfig()).shards.some((s) => s.syncing?.includes(t.url));
      return { ...seen, routersWriteToIt: listed, ...(listed ? {} : { routersWhy: "not in the config" }) };
    },
    startSync: (url, from, afterSeq) => real.startSync(to(url), to(from), afterSeq),
  };
}

const points = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => ({
    id: `doc-${from + k}`,
    vector: vectors[from + k] as number[],
  }));

async function startShard(dir: string): Promise<ShardProcess> {
  const s = await startShardProcess({ dataDir: join(work, dir), dimension: DIM, fingerprint: FP });
  started.push(s);
  await s.waitReady();
  return s;
}

function seedCli(args: string[]): Promise<{ code: number; out: string }> {
  const argv = [join(ROOT, "bin", "embedops.mjs"), "snapshot", "seed-replica", ...args];
  return new Promise((resolve) =>
    execFile(process.execPath, argv, { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, out: stdout + stderr }),
    ),
  );
}

const replicaSync = async () =>
  (await getCustom(cp, NS, "vectorindexes", INDEX))?.status?.["replicaSync"] as
    | {
        servingReplicas: number;
        seeded?: boolean;
        replicas: { replica: number; phase: string; seededAtSeq?: number; rowsCaughtUp?: number }[];
      }
    | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-op-replicas-"));
  await setUpCluster(cp, NS);
  const { kubeconfigPath } = await serviceAccountKubeconfig(cp, {
    namespace: OPERATOR_NAMESPACE,
    name: "embedops-operator",
    clusterRole: CLUSTER_ROLE,
  });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const encoders = new EncoderStandIn();
  const options = operatorOptions({
    clients: makeClients(kc),
    image: TEST_IMAGE,
    namespace: NS,
    leaderElection: false,
    metricsPort: 0,
    healthPort: 0,
    resyncPeriodMs: 2000,
    probe: encoders.probe,
    rollout: { scrape: encoders.scrape, sendProbe: encoders.sendProbe, maxIntervalSeconds: 1 },
    log: createLogger({ test: NS }),
  });
  runtime = new OperatorRuntime({
    ...options,
    controllers: options.controllers
      .filter((c) => c.name !== "indexsnapshot")
      .map((c) =>
        c.name === "vectorindex"
          ? new VectorIndexReconciler({
              image: TEST_IMAGE,
              maxIntervalSeconds: 1,
              replicas: localReplicaIo(),
            })
          : c,
      ),
  });
  await runtime.start();
  const r = await kubectl(
    cp,
    ["-n", NS, "apply", "-f", "-"],
    `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: ${MODEL}
spec:
  source:
    path: models/all-minilm-l6-v2
  dimension: ${DIM}
  pooling: mean
`,
  );
  expect(r.stderr).toBe("");
  await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, MODEL));
  await waitFor(
    "the model's fingerprint",
    async () => (await getCustom(cp, NS, "embeddingmodels", MODEL))?.status?.["fingerprint"],
  );
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  for (const s of started) if (s.proc.exitCode === null && s.proc.signalCode === null) await s.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("VectorIndex spec.replicas raised", () => {
  it("when replicas go 1 -> 2, then replica 1 is seeded from replica 0, listed as syncing until the operator's catch-up copied the later writes, then served, and status says Synced", async () => {
    const replica0 = await startShard("replica-0");
    local.set(podUrl(0), replica0.url);
    const apply = (replicas: number) =>
      kubectl(
        cp,
        ["-n", NS, "apply", "-f", "-"],
        `apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: ${INDEX}
spec:
  modelRef:
    name: ${MODEL}
  shards: 1
  replicas: ${replicas}
  auth:
    enabled: false
`,
      );
    expect((await apply(1)).stderr).toBe("");
    const first = await waitFor("replicaSync with 1 serving replica", async () => {
      const s = await replicaSync();
      return s?.servingReplicas === 1 ? s : undefined;
    });
    expect(first).toEqual({ generation: GEN, servingReplicas: 1, replicas: [] });
    // The seed init container is there from the start: at 1 replica it copies nothing (ordinal 0).
    const before = await apps.readNamespacedStatefulSet({ name: setName, namespace: NS });
    expect(before.spec?.template.spec?.initContainers?.map((c) => c.name)).toEqual(["seed"]);
    expect(before.spec?.template.spec?.initContainers?.[0]?.args).toContain(
      `http://${setName}-{ordinal}.${setName}.${NS}.svc:8080`,
    );
    expect(before.spec?.updateStrategy).toEqual({ type: "RollingUpdate" });
    // What the StatefulSet controller's revision hash is computed from: the stored pod template.
    const template = JSON.stringify(before.spec?.template);
    expect((await routerConfig()).shards[0]?.syncing).toBeUndefined();
    expect((await call(replica0.url, "POST", "/v1/points", { points: points(0, 50) })).status).toBe(200);

    expect((await apply(2)).stderr).toBe("");
    const grown = await waitFor("the StatefulSet at 2 replicas", async () => {
      const s = await apps.readNamespacedStatefulSet({ name: setName, namespace: NS });
      return s.spec?.replicas === 2 ? s : undefined;
    });
    // Only the replica count changed: the same template (so the same revision; replica 0 does not
    // roll) and no partition.
    expect(JSON.stringify(grown.spec?.template)).toBe(template);
    expect(grown.spec?.updateStrategy).toEqual({ type: "RollingUpdate" });
    expect((await routerConfig()).shards[0]).toEqual({
      name: "shard-0",
      replicas: [podUrl(0), podUrl(1)],
      syncing: [podUrl(1)],
    });
    const seeding = await waitFor("status: replica 1 Seeding", async () => {
      const s = await replicaSync();
      return s?.replicas.length ? s : undefined;
    });
    expect(seeding.replicas).toMatchObject([{ replica: 1, phase: "Seeding" }]);
    expect(seeding.servingReplicas).toBe(1);

    // The kubelet's part: the init container, then the shard on its volume.
    const seeded = await seedCli([
      ...["--data-dir", join(work, "replica-1"), "--fingerprint", FP, "--ordinal", "1"],
      ...["--peer", replica0.url, "--wait-seconds", "5"],
    ]);
    expect(seeded.out).toContain("seeded replica 1");
    expect(seeded.code).toBe(0);
    // Written after the copy: only replica 0 has them (the router's older config did not list replica 1).
    expect((await call(replica0.url, "POST", "/v1/points", { points: points(50, 80) })).status).toBe(200);
    expect((await call(replica0.url, "POST", "/v1/points/delete", { ids: ["doc-7"] })).status).toBe(200);
    const replica1 = await startShard("replica-1");
    expect((await allIds(replica1.url)).size).toBe(50);
    local.set(podUrl(1), replica1.url);

    // Polled every 200 ms: the operator waits twice spec.router.timeoutMs with it Syncing before the catch-up.
    const phases: string[] = ["Seeding"];
    const synced = await waitFor(
      "replica 1 Synced",
      async () => {
        const s = await replicaSync();
        const phase = s?.replicas[0]?.phase;
        if (phase !== undefined && phase !== phases.at(-1)) phases.push(phase);
        return s?.servingReplicas === 2 ? s : undefined;
      },
      30_000,
    );
    expect(phases).toEqual(["Seeding", "Syncing", "Synced"]);
    expect(synced.seeded).toBe(true);
    const watermark = (
      JSON.parse(readFileSync(join(work, "replica-1", "seeded-from.json"), "utf8")) as { seq: number }
    ).seq;
    expect(synced.replicas).toMatchObject([{ replica: 1, phase: "Synced", seededAtSeq: watermark }]);
    expect(synced.replicas[0]?.rowsCaughtUp).toBe(31);
    expect(await allIds(replica1.url)).toEqual(await allIds(replica0.url));
    expect((await allIds(replica1.url)).size).toBe(79);

    const after = await waitFor("the router config without syncing", async () => {
      const c = await routerConfig();
      return c.shards[0]?.syncing === undefined ? c : undefined;
    });
    expect(after.shards[0]?.replicas).toEqual([podUrl(0), podUrl(1)]);
    // Synced changes nothing in the StatefulSet either: the template replica 0 runs stays.
    const done = await apps.readNamespacedStatefulSet({ name: setName, namespace: NS });
    expect(JSON.stringify(done.spec?.template)).toBe(template);
    expect(done.spec?.updateStrategy).toEqual({ type: "RollingUpdate" });
    expect(done.spec?.replicas).toBe(2);
    const events = await admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
    expect(events.items.map((e) => e.reason)).toContain("ReplicaSynced");
  }, 90_000);
});
