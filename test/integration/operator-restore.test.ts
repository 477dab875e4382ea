// VectorIndex spec.restore and status.lastSnapshot against a real kube-apiserver. The operator runs
// as the chart's ServiceAccount with its EmbeddingModel and VectorIndex controllers; the snapshot
// runner's part (an IndexSnapshot's status) and the kubelet's (workload status) are played by the
// test. The IndexSnapshot controller is not started: it would drive a real run of the object.
import { AppsV1Api, KubeConfig, type V1StatefulSet } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { operatorOptions } from "../../src/cli/operator.js";
import { generationName } from "../../src/core/generation.js";
import { makeClients } from "../../src/kube/client.js";
import { OperatorRuntime } from "../../src/kube/operator-runtime.js";
import { createLogger } from "../../src/util/log.js";
import { EncoderStandIn, modelFingerprint } from "./encoder-stand-in.js";
import { GenerationStandIn } from "./generation-stand-in.js";
import { adminKubeConfig, serviceAccountKubeconfig } from "./harness/index.js";
import {
  CLUSTER_ROLE,
  conditionOf,
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
const NS = "op-restore";
const MODEL = "minilm";
const FP = modelFingerprint(MODEL);
const OTHER_FP = "e".repeat(64);
const apps = adminKubeConfig(cp).makeApiClient(AppsV1Api);
const gates = new GenerationStandIn();
let runtime: OperatorRuntime;

const index = (name: string) => getCustom(cp, NS, "vectorindexes", name);

async function apply(yaml: string): Promise<void> {
  const r = await kubectl(cp, ["-n", NS, "apply", "-f", "-"], yaml);
  expect(r.stderr).toBe("");
}

/** What the snapshot runner writes when a run ends (or while it runs). */
async function setSnapshotStatus(name: string, status: Record<string, unknown>): Promise<void> {
  const r = await kubectl(cp, [
    ...["-n", NS, "patch", "indexsnapshot", name, "--subresource=status", "--type=merge"],
    ...["-p", JSON.stringify({ status })],
  ]);
  expect(r.stderr).toBe("");
}

async function snapshot(name: string, of: string, status?: Record<string, unknown>): Promise<void> {
  await apply(`apiVersion: embedops.dev/v1alpha1
kind: IndexSnapshot
metadata:
  name: ${name}
spec:
  indexRef:
    name: ${of}
`);
  if (status) await setSnapshotStatus(name, status);
}

const succeeded = (completedAt: string, fingerprint = FP) => ({
  phase: "Succeeded",
  fingerprint,
  vectors: 1234,
  startedAt: completedAt,
  completedAt,
});

function restoringIndex(name: string, snapshotName: string, extra = ""): string {
  return `apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: ${name}
spec:
  modelRef:
    name: ${MODEL}
  shards: 2
  auth:
    enabled: false
  restore:
    snapshotName: ${snapshotName}
${extra}`;
}

const shardSets = async (name: string): Promise<V1StatefulSet[]> =>
  (
    await apps.listNamespacedStatefulSet({ namespace: NS, labelSelector: `embedops.dev/index=${name}` })
  ).items.sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));

async function conditionReason(name: string, type: string, reason: string, message?: RegExp) {
  return waitFor(`${name} ${type} reason ${reason}${message ? ` matching ${message}` : ""}`, async () => {
    const c = conditionOf(await index(name), type);
    return c?.reason === reason && (!message || message.test(c.message)) ? c : undefined;
  });
}

beforeAll(async () => {
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
    generations: gates,
    log: createLogger({ test: NS }),
  });
  runtime = new OperatorRuntime({
    ...options,
    controllers: options.controllers.filter((c) => c.name !== "indexsnapshot"),
  });
  await runtime.start();
  await apply(`apiVersion: v1
kind: Secret
metadata:
  name: s3-creds
stringData:
  AWS_ACCESS_KEY_ID: test-access-key
  AWS_SECRET_ACCESS_KEY: test-secret-key
---
apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: ${MODEL}
spec:
  source:
    path: models/all-minilm-l6-v2
  dimension: 384
  pooling: mean
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: source
spec:
  modelRef:
    name: ${MODEL}
  shards: 1
  auth:
    enabled: false
  snapshot:
    store:
      s3:
        endpoint: http://s3.example.internal:9000
        bucket: snaps
        prefix: team-a
        region: eu-west-1
        secretRef:
          name: s3-creds
`);
  await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, MODEL));
  await waitFor(
    "the model's fingerprint",
    async () => (await getCustom(cp, NS, "embeddingmodels", MODEL))?.status?.["fingerprint"],
  );
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
});

describe("VectorIndex spec.restore", () => {
  it("when the snapshot is missing, then Running, then Succeeded, then the index waits naming it, then its shards restore it by init container and status records the restore", async () => {
    await apply(restoringIndex("restored", "nightly"));
    await conditionReason(
      "restored",
      "Ready",
      "RestoreSourceNotReady",
      /IndexSnapshot "nightly" in namespace op-restore not found/,
    );
    expect(await shardSets("restored")).toEqual([]);

    await snapshot("nightly", "source", { phase: "Running", startedAt: "2026-01-01T03:00:00Z" });
    await conditionReason("restored", "Restored", "RestoreSourceNotReady", /is Running/);
    expect(await shardSets("restored")).toEqual([]);

    await setSnapshotStatus("nightly", succeeded("2026-01-01T03:05:00Z"));
    const sets = await waitFor("the restored index's 2 shard StatefulSets", async () => {
      const s = await shardSets("restored");
      return s.length === 2 ? s : undefined;
    });
    for (const [shard, set] of sets.entries()) {
      const pod = set.spec?.template.spec;
      const init = pod?.initContainers?.[0];
      // The restore fills the volume first; the seed then finds a database and copies nothing.
      expect(pod?.initContainers?.map((c) => c.name)).toEqual(["restore", "seed"]);
      expect(init?.name).toBe("restore");
      expect(init?.image).toBe(TEST_IMAGE);
      expect(init?.args).toEqual([
        ...["snapshot", "restore-shard", "--snapshot", "nightly", "--from-index", "source"],
        ...["--shard", String(shard), "--shards", "2", "--fingerprint", FP, "--data-dir", "/data"],
        ...["--store", "s3://snaps/team-a", "--endpoint", "http://s3.example.internal:9000"],
      ]);
      // Credentials only by reference: no value of the Secret appears in the object.
      expect(init?.env).toEqual([
        {
          name: "AWS_ACCESS_KEY_ID",
          valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_ACCESS_KEY_ID" } },
        },
        {
          name: "AWS_SECRET_ACCESS_KEY",
          valueFrom: { secretKeyRef: { name: "s3-creds", key: "AWS_SECRET_ACCESS_KEY" } },
        },
        { name: "AWS_REGION", value: "eu-west-1" },
      ]);
      expect(JSON.stringify(set)).not.toContain("test-secret-key");
      expect(init?.volumeMounts?.find((m) => m.mountPath === "/data")?.name).toBe("data");
    }
    await conditionReason("restored", "Restored", "Restoring", /IndexSnapshot "nightly"/);
    expect((await index("restored"))?.status?.["restoredFrom"]).toBeUndefined();

    for (const set of sets) await markWorkloadReady(cp, "StatefulSet", NS, set.metadata?.name ?? "");
    await conditionReason(
      "restored",
      "Restored",
      "RestoreApplied",
      /IndexSnapshot "nightly" of VectorIndex "source" \(1234 vectors\)/,
    );
    expect((await index("restored"))?.status?.["restoredFrom"]).toMatchObject({
      snapshot: "nightly",
      fromIndex: "source",
      fingerprint: FP,
      vectors: 1234,
    });
    // Recording the restore does not touch the shards (no rolling restart): same template generation.
    await new Promise((r) => setTimeout(r, 3000));
    for (const set of await shardSets("restored")) {
      expect(set.metadata?.generation).toBe(1);
      expect(set.spec?.template.spec?.initContainers?.[0]?.name).toBe("restore");
    }
  }, 90_000);

  it("when the snapshot was taken with another model fingerprint, then the index is refused naming both and no shards are built", async () => {
    await snapshot("foreign", "source", succeeded("2026-01-01T04:00:00Z", OTHER_FP));
    await apply(restoringIndex("mismatch", "foreign"));
    const degraded = await conditionReason("mismatch", "Degraded", "RestoreFingerprintMismatch");
    expect(degraded.status).toBe("True");
    expect(degraded.message).toContain(OTHER_FP);
    expect(degraded.message).toContain(FP);
    expect(conditionOf(await index("mismatch"), "Ready")?.status).toBe("False");
    expect(await shardSets("mismatch")).toEqual([]);
  }, 60_000);

  it("when neither index sets spec.snapshot.store, then the index waits saying to set one", async () => {
    await apply(`apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: storeless
spec:
  modelRef:
    name: ${MODEL}
  auth:
    enabled: false
`);
    await snapshot("storeless-nightly", "storeless", succeeded("2026-01-01T05:00:00Z"));
    await apply(restoringIndex("from-storeless", "storeless-nightly"));
    await conditionReason("from-storeless", "Ready", "RestoreStoreMissing", /set spec.snapshot.store/);
    expect(await shardSets("from-storeless")).toEqual([]);
  }, 60_000);
});

describe("VectorIndex status.lastSnapshot", () => {
  const last = async () =>
    (await index("source"))?.status?.["lastSnapshot"] as { name: string; completedAt: string } | undefined;

  it("when newer snapshots succeed or fail, then lastSnapshot follows the newest Succeeded one", async () => {
    // "foreign" (04:00) is the newest Succeeded snapshot of source from the tests above.
    await waitFor("lastSnapshot foreign", async () =>
      (await last())?.name === "foreign" ? true : undefined,
    );
    await snapshot("later", "source", succeeded("2026-01-02T03:00:00Z"));
    await waitFor("lastSnapshot later", async () => ((await last())?.name === "later" ? true : undefined));
    expect(await last()).toEqual({ name: "later", completedAt: "2026-01-02T03:00:00Z" });

    await snapshot("failed", "source", { phase: "Failed", completedAt: "2026-01-03T03:00:00Z" });
    await snapshot("older", "source", succeeded("2026-01-01T00:00:00Z"));
    await snapshot("running", "source", { phase: "Running", startedAt: "2026-01-04T03:00:00Z" });
    // Each of these reconciles source; none is newer and Succeeded.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await last())?.name).toBe("later");

    const printed = await kubectl(cp, ["-n", NS, "get", "vi", "source"]);
    expect(printed.stdout.split("\n")[0]).toMatch(/LAST SNAPSHOT/);
  }, 60_000);
});

describe("VectorIndex spec.restore with spec.quality", () => {
  const quality = `  quality:
    goldenSet:
      configMapRef:
        name: golden
        key: golden.jsonl
    minRecall: 0.9
`;

  it("when the restored shards are ready, then the golden-set check runs once against the restored generation and RestoreVerified reports its recall, passed or failed", async () => {
    await apply(`apiVersion: v1
kind: ConfigMap
metadata:
  name: golden
data:
  golden.jsonl: |
    {"query": "how do I reset my password", "relevant": ["doc-1"]}
`);
    await apply(restoringIndex("verified", "nightly", quality));
    await apply(restoringIndex("unverified", "nightly", quality));
    for (const name of ["verified", "unverified"]) {
      const sets = await waitFor(`${name}'s shard StatefulSets`, async () => {
        const found = await shardSets(name);
        return found.length === 2 ? found : undefined;
      });
      for (const set of sets) await markWorkloadReady(cp, "StatefulSet", NS, set.metadata?.name ?? "");
      await conditionReason(name, "RestoreVerified", "Measuring", /recall@k of generation g-/);
    }
    const generation = generationName(FP);
    expect([...(gates.asked.get(`${NS}/verified`) ?? [])]).toEqual([generation]);

    gates.setGate(NS, "verified", { pass: true, recall: 0.97, message: "recall@10 0.97 >= minRecall 0.90" });
    gates.setGate(NS, "unverified", {
      pass: false,
      recall: 0.42,
      message: "recall@10 0.42 < minRecall 0.90",
    });
    const passed = await conditionReason("verified", "RestoreVerified", "RecallAboveMinimum");
    expect(passed.status).toBe("True");
    expect(passed.message).toContain("recall@k 0.970");
    const failed = await conditionReason("unverified", "RestoreVerified", "RecallBelowMinimum");
    expect(failed.status).toBe("False");
    expect(failed.message).toContain("0.42 < minRecall 0.90");
    // Once: a later gate result does not change the recorded check.
    gates.setGate(NS, "unverified", { pass: true, recall: 0.99, message: "recall@10 0.99" });
    await new Promise((r) => setTimeout(r, 3000));
    expect(conditionOf(await index("unverified"), "RestoreVerified")?.reason).toBe("RecallBelowMinimum");
    expect(conditionOf(await index("unverified"), "Restored")?.status).toBe("True");
  }, 90_000);
});
