// Snapshots in a cluster (issue "Snapshots") against a real kube-apiserver: the operator (as the
// chart's ServiceAccount) turns a VectorIndex's spec.snapshot into the runner's ServiceAccount,
// RoleBinding and CronJob, and a hand-applied IndexSnapshot into a Job. The test then does what the
// CronJob's or Job's pod would: it runs `embedops snapshot create|run --kube` as a process,
// authenticated as the index's runner ServiceAccount (so the chart's runner ClusterRole is what
// allows it), against real shard processes (--shard-url: the shard Services' DNS names resolve only
// in a cluster) and a path store. The stand-in encoder answers /info; no kubelet runs, so the test
// marks workloads ready itself.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BatchV1Api, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { shardForId } from "../../src/router/shard-hash.js";
import { call, type ShardProcess, startShardProcess } from "../dataplane/shard-process.js";
import { startVersitygw, type Versitygw } from "../dataplane/versitygw.js";
import { EncoderStandIn } from "./encoder-stand-in.js";
import { adminKubeConfig, serviceAccountToken, writeKubeconfig } from "./harness/index.js";
import {
  conditionOf,
  custom,
  encoderDeploymentName,
  getCustom,
  kubectl,
  markWorkloadReady,
  type RunningOperator,
  setUpCluster,
  startOperator,
  waitFor,
} from "./operator-harness.js";

const cp = inject("controlPlane");
const NS = "op-snapshot";
const kc = adminKubeConfig(cp);
const batch = kc.makeApiClient(BatchV1Api);
const core = kc.makeApiClient(CoreV1Api);
const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
const encoders = new EncoderStandIn();
let operator: RunningOperator;
const ROOT = join(import.meta.dirname, "..", "..");
const started: ShardProcess[] = [];
let s3: Versitygw | undefined;
let work: string;

const missing = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    () => true,
  );

function manifests(name: string, snapshot: string, dimension = 384): string {
  return `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: ${name}
spec:
  source:
    path: models/all-minilm-l6-v2
  dimension: ${dimension}
  pooling: mean
  runtime:
    replicas: 1
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: ${name}-docs
spec:
  modelRef:
    name: ${name}
  shards: 2
  replicas: 1
  auth:
    enabled: false
${snapshot}`;
}

async function applyIndex(name: string, snapshot: string, dimension = 384): Promise<void> {
  const r = await kubectl(cp, ["-n", NS, "apply", "-f", "-"], manifests(name, snapshot, dimension));
  expect(r.code, r.stderr).toBe(0);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-op-snapshot-"));
  await setUpCluster(cp, NS);
  operator = await startOperator(cp, { namespace: NS, encoders });
});

afterAll(async () => {
  await operator?.stop();
  await Promise.all(started.map((s) => s.stop()));
  await s3?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Snap {
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid: string;
  };
  status?: {
    phase?: string;
    vectors?: number;
    size?: string;
    bytes?: number;
    generation?: string;
    fingerprint?: string;
    location?: string;
    shards?: { shard: number; vectors: number; files: { name: string; bytes: number; sha256: string }[] }[];
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

async function snap(name: string): Promise<Snap | undefined> {
  try {
    return (await custom(cp).getNamespacedCustomObject({
      group: "embedops.dev",
      version: "v1alpha1",
      namespace: NS,
      plural: "indexsnapshots",
      name,
    })) as Snap;
  } catch {
    return undefined;
  }
}

/** `embedops snapshot ...` as a process, the way the CronJob's or Job's container runs it. */
function embedops(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, "bin", "embedops.mjs"), ...args],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, KUBECONFIG: "", ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** A kubeconfig for the index's runner ServiceAccount, which the operator created and bound. */
async function runnerKubeconfig(vi: string): Promise<string> {
  const name = `${vi}-snapshot`;
  await waitFor(`ServiceAccount ${name}`, () => core.readNamespacedServiceAccount({ name, namespace: NS }));
  const token = await serviceAccountToken(cp, { namespace: NS, name });
  return writeKubeconfig({
    path: join(work, `${name}.kubeconfig`),
    url: cp.url,
    caData: cp.caData,
    credentials: { token },
    name: `system:serviceaccount:${NS}:${name}`,
  });
}

const DIM = 384;
function unit(i: number): number[] {
  const v = Array.from({ length: DIM }, (_, d) => Math.sin(i * 7 + d * 3) + 0.01);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** A ready index on two real shard processes holding `docs` documents; returns the shards' URLs. */
async function indexOnShards(name: string, docs: number, snapshot: string): Promise<string[]> {
  await applyIndex(name, snapshot, DIM);
  await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, name));
  const vi = await waitFor(`${name}-docs's active generation`, async () => {
    const got = await getCustom(cp, NS, "vectorindexes", `${name}-docs`);
    return got?.status?.["activeGeneration"] ? got : undefined;
  });
  const fingerprint = String(vi.status?.["fingerprint"]);
  const shards: ShardProcess[] = [];
  for (const s of [0, 1]) {
    const dir = join(work, name, `shard-${s}`);
    await mkdir(dir, { recursive: true });
    const shard = await startShardProcess({ dataDir: dir, dimension: DIM, fingerprint });
    started.push(shard);
    await shard.waitReady();
    shards.push(shard);
  }
  const per: { id: string; vector: number[]; text: string }[][] = [[], []];
  for (let i = 0; i < docs; i++)
    per[shardForId(`doc-${i}`, 2)]?.push({ id: `doc-${i}`, vector: unit(i), text: `doc ${i}` });
  for (const [s, points] of per.entries()) {
    const r = await call((shards[s] as ShardProcess).url, "POST", "/v1/points", { points });
    expect(r.status).toBe(200);
  }
  return shards.map((s) => s.url);
}

describe("operator: spec.snapshot", () => {
  it("when spec.snapshot has a schedule, then a CronJob runs `snapshot create --kube` with the store, as the index's runner ServiceAccount; without the schedule it is gone", async () => {
    const vi = "sched-docs";
    await applyIndex(
      "sched",
      `  snapshot:
    schedule: "15 3 * * *"
    timeZone: Europe/Berlin
    retain: 2
    store:
      s3:
        endpoint: http://s3.example:7070
        bucket: backups
        prefix: team-a
        secretRef:
          name: s3-creds
`,
    );
    await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, "sched"));
    const cj = await waitFor("the snapshot CronJob", () =>
      batch.readNamespacedCronJob({ name: `${vi}-snapshot`, namespace: NS }),
    );
    expect(cj.spec?.schedule).toBe("15 3 * * *");
    expect(cj.spec?.timeZone).toBe("Europe/Berlin");
    expect(cj.spec?.concurrencyPolicy).toBe("Forbid");
    expect(cj.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "VectorIndex",
      name: vi,
      controller: true,
    });
    const pod = cj.spec?.jobTemplate.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe(`${vi}-snapshot`);
    const c = pod?.containers[0];
    expect(c?.args).toEqual([
      ...["snapshot", "create", "--kube", "--index", vi, "--namespace", NS],
      ...["--store", "s3://backups/team-a", "--endpoint", "http://s3.example:7070"],
    ]);
    expect(c?.env?.map((e) => [e.name, e.value, e.valueFrom?.secretKeyRef?.name])).toEqual([
      ["AWS_ACCESS_KEY_ID", undefined, "s3-creds"],
      ["AWS_SECRET_ACCESS_KEY", undefined, "s3-creds"],
    ]);
    const rb = await rbac.readNamespacedRoleBinding({ name: `${vi}-snapshot`, namespace: NS });
    expect(rb.roleRef.name).toBe("embedops-snapshot-runner");
    expect(rb.subjects).toEqual([{ kind: "ServiceAccount", name: `${vi}-snapshot`, namespace: NS }]);
    await core.readNamespacedServiceAccount({ name: `${vi}-snapshot`, namespace: NS });

    // Switched to a PVC store: the claim is mounted and the flag names the mount.
    await applyIndex(
      "sched",
      `  snapshot:
    schedule: "@daily"
    store:
      pvc:
        claimName: snaps
`,
    );
    const pvc = await waitFor("the CronJob on the PVC store", async () => {
      const got = await batch.readNamespacedCronJob({ name: `${vi}-snapshot`, namespace: NS });
      return got.spec?.schedule === "@daily" ? got : undefined;
    });
    expect(pvc.spec?.timeZone).toBeUndefined();
    const podSpec = pvc.spec?.jobTemplate.spec?.template.spec;
    expect(podSpec?.containers[0]?.args?.slice(-2)).toEqual(["--store", "path:/snapshots"]);
    expect(podSpec?.volumes).toContainEqual({ name: "store", persistentVolumeClaim: { claimName: "snaps" } });

    // No schedule: the CronJob goes, the runner's identity stays for hand-applied snapshots.
    await applyIndex(
      "sched",
      `  snapshot:
    store:
      pvc:
        claimName: snaps
`,
    );
    await waitFor("the CronJob deleted", () =>
      missing(batch.readNamespacedCronJob({ name: `${vi}-snapshot`, namespace: NS })),
    );
    await rbac.readNamespacedRoleBinding({ name: `${vi}-snapshot`, namespace: NS });

    // No spec.snapshot: the runner's ServiceAccount and RoleBinding go too.
    await applyIndex("sched", "");
    await waitFor("the RoleBinding deleted", () =>
      missing(rbac.readNamespacedRoleBinding({ name: `${vi}-snapshot`, namespace: NS })),
    );
    await waitFor("the ServiceAccount deleted", () =>
      missing(core.readNamespacedServiceAccount({ name: `${vi}-snapshot`, namespace: NS })),
    );
  });

  it("when the CronJob's command runs as the runner ServiceAccount, then an IndexSnapshot records the copy, a dead shard fails it with the reason, a run whose pod died is failed by the next, and retention keeps the newest `retain`", async () => {
    const vi = "cron-docs";
    const urls = await indexOnShards(
      "cron",
      40,
      `  snapshot:
    schedule: "@daily"
    retain: 2
    store:
      pvc:
        claimName: snaps
`,
    );
    const kubeconfig = await runnerKubeconfig(vi);
    const store = join(work, "store");
    await mkdir(store, { recursive: true });
    const create = (name: string, shardUrls: string[]) =>
      embedops([
        ...["snapshot", "create", "--kube", "--kubeconfig", kubeconfig, "--namespace", NS, "--index", vi],
        ...["--name", name, "--store", `path:${store}`],
        ...shardUrls.flatMap((u) => ["--shard-url", u]),
      ]);

    const first = `${vi}-20260101-000001`;
    const ok = await create(first, urls);
    expect(ok.code, ok.stderr).toBe(0);
    const done = await snap(first);
    expect(done?.status?.phase).toBe("Succeeded");
    expect(done?.status?.vectors).toBe(40);
    expect(done?.metadata.labels?.["embedops.dev/snapshot-trigger"]).toBe("scheduled");
    expect(done?.metadata.annotations?.["embedops.dev/snapshot-runner"]).toBeTruthy();
    expect(done?.status?.shards?.map((s) => s.shard)).toEqual([0, 1]);
    expect(done?.status?.shards?.reduce((n, s) => n + s.vectors, 0)).toBe(40);
    for (const s of done?.status?.shards ?? [])
      for (const f of s.files) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done?.status?.size).toMatch(/^\d+(\.\d)? (B|kB|MB)$/);
    expect(done?.status?.fingerprint).toBe(
      (await getCustom(cp, NS, "vectorindexes", vi))?.status?.["fingerprint"],
    );
    expect(existsSync(join(store, vi, first, "manifest.json"))).toBe(true);
    // The operator saw the runner annotation: no Job for this one.
    await expect(batch.readNamespacedJob({ name: `${first}-run`, namespace: NS })).rejects.toThrow();
    const columns = await kubectl(cp, ["-n", NS, "get", "isnap", first]);
    expect(columns.stdout).toMatch(/PHASE\s+VECTORS\s+SIZE\s+AGE/);
    expect(columns.stdout).toMatch(/Succeeded\s+40\s+\d/);

    // A shard nobody listens on: Failed, the reason in a condition, and a non-zero exit (the Job fails).
    const dead = `${vi}-20260101-000002`;
    const failed = await create(dead, [urls[0] as string, "http://127.0.0.1:9"]);
    expect(failed.code).not.toBe(0);
    const f = await snap(dead);
    expect(f?.status?.phase).toBe("Failed");
    const ready = f?.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "SnapshotFailed" });
    expect(ready?.message).toContain("shard 1");
    expect(ready?.message).toContain("127.0.0.1:9");

    // A scheduled run whose pod was killed mid-copy: Running, taken by a runner that is gone.
    const orphan = `${vi}-20260101-000000`;
    await custom(cp).createNamespacedCustomObject({
      group: "embedops.dev",
      version: "v1alpha1",
      namespace: NS,
      plural: "indexsnapshots",
      body: {
        apiVersion: "embedops.dev/v1alpha1",
        kind: "IndexSnapshot",
        metadata: {
          name: orphan,
          labels: { "embedops.dev/index": vi, "embedops.dev/snapshot-trigger": "scheduled" },
          annotations: { "embedops.dev/snapshot-runner": "cron-docs-snapshot-29000000-killed" },
        },
        spec: { indexRef: { name: vi } },
      },
    });

    // Two more good runs: retain 2 keeps the two newest Succeeded; the oldest goes, files first.
    // The first of them finds the orphan (the CronJob forbids overlapping runs) and fails it.
    for (const n of [3, 4]) {
      const r = await create(`${vi}-20260101-00000${n}`, urls);
      expect(r.code, r.stderr).toBe(0);
    }
    await waitFor(`${first} deleted by retention`, async () =>
      (await snap(first)) === undefined ? true : undefined,
    );
    expect(existsSync(join(store, vi, first))).toBe(false);
    expect((await snap(dead))?.status?.phase).toBe("Failed");
    const orphaned = await snap(orphan);
    expect(orphaned?.status?.phase).toBe("Failed");
    expect(orphaned?.status?.conditions?.find((c) => c.type === "Ready")?.message).toContain(
      "cron-docs-snapshot-29000000-killed",
    );
    for (const n of [3, 4]) {
      expect((await snap(`${vi}-20260101-00000${n}`))?.status?.phase).toBe("Succeeded");
      expect(existsSync(join(store, vi, `${vi}-20260101-00000${n}`, "manifest.json"))).toBe(true);
    }

    // The runner's ServiceAccount may do what the runner does, and nothing else.
    const sa = `system:serviceaccount:${NS}:${vi}-snapshot`;
    const can = async (verb: string, resource: string, ns = NS, extra: string[] = []) =>
      (await kubectl(cp, ["auth", "can-i", verb, resource, "-n", ns, "--as", sa, ...extra])).stdout.trim();
    expect(await can("create", "indexsnapshots.embedops.dev")).toBe("yes");
    expect(await can("patch", "indexsnapshots.embedops.dev", NS, ["--subresource=status"])).toBe("yes");
    expect(await can("get", "vectorindexes.embedops.dev")).toBe("yes");
    expect(await can("patch", "vectorindexes.embedops.dev")).toBe("no");
    expect(await can("get", "secrets")).toBe("no");
    expect(await can("create", "pods")).toBe("no");
    expect(await can("create", "indexsnapshots.embedops.dev", "default")).toBe("no");
  });

  it("when an IndexSnapshot is applied by hand, then the operator creates its Job (owned by it), `snapshot run` drives it to Succeeded, and deleting it deletes its files through a Job first", async () => {
    const vi = "hand-docs";
    const urls = await indexOnShards(
      "hand",
      12,
      `  snapshot:
    store:
      pvc:
        claimName: snaps
`,
    );
    const name = "hand-manual";
    const applied = await kubectl(
      cp,
      ["-n", NS, "apply", "-f", "-"],
      `apiVersion: embedops.dev/v1alpha1
kind: IndexSnapshot
metadata:
  name: ${name}
spec:
  indexRef:
    name: ${vi}
`,
    );
    expect(applied.code, applied.stderr).toBe(0);
    const job = await waitFor("the IndexSnapshot's Job", () =>
      batch.readNamespacedJob({ name: `${name}-run`, namespace: NS }),
    );
    const uid = (await snap(name))?.metadata.uid;
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "IndexSnapshot",
      name,
      uid,
      controller: true,
    });
    const pod = job.spec?.template.spec;
    expect(pod?.serviceAccountName).toBe(`${vi}-snapshot`);
    expect(pod?.containers[0]?.args).toEqual([
      ...["snapshot", "run", name, "--kube", "--namespace", NS],
      ...["--store", "path:/snapshots"],
    ]);
    const pending = await waitFor("Pending, waiting for the Job", async () => {
      const got = await snap(name);
      return got?.status?.phase === "Pending" ? got : undefined;
    });
    expect(pending.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("WaitingForJob");

    // What the Job's pod runs.
    const store = join(work, "hand-store");
    await mkdir(store, { recursive: true });
    const r = await embedops([
      // kubectl's spelling of the object, as a user would type it.
      ...[
        "snapshot",
        "run",
        `isnap/${name}`,
        "--kube",
        "--kubeconfig",
        await runnerKubeconfig(vi),
        "--namespace",
        NS,
      ],
      ...["--store", `path:${store}`, ...urls.flatMap((u) => ["--shard-url", u])],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const done = await snap(name);
    expect(done?.status?.phase).toBe("Succeeded");
    expect(done?.status?.vectors).toBe(12);
    // The operator leaves a driven snapshot alone: still Succeeded after a few resyncs.
    await new Promise((res) => setTimeout(res, 3000));
    expect((await snap(name))?.status?.phase).toBe("Succeeded");
    expect(conditionOf(done as never, "Ready")?.status).toBe("True");

    // Deleting it: a Job deletes its files from the index's store, then the object goes.
    expect(existsSync(join(store, vi, name, "manifest.json"))).toBe(true);
    const del = await kubectl(cp, ["-n", NS, "delete", "isnap", name, "--wait=false"]);
    expect(del.code, del.stderr).toBe(0);
    const delJob = await waitFor("the delete Job", () =>
      batch.readNamespacedJob({ name: `${name}-delete`, namespace: NS }),
    );
    expect(delJob.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "IndexSnapshot", name });
    expect(delJob.spec?.template.spec?.containers[0]?.args).toEqual([
      ...["snapshot", "delete", name, "--from-index", vi],
      ...["--store", "path:/snapshots"],
    ]);
    await new Promise((res) => setTimeout(res, 1000));
    expect((await snap(name))?.metadata.uid).toBe(uid);
    // What the delete Job's pod runs, then its end as the Job controller would record it.
    const rm = await embedops(["snapshot", "delete", name, "--from-index", vi, "--store", `path:${store}`]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(existsSync(join(store, vi, name))).toBe(false);
    const now = new Date();
    delJob.status = {
      startTime: now,
      completionTime: now,
      succeeded: 1,
      conditions: [
        { type: "SuccessCriteriaMet", status: "True", lastTransitionTime: now },
        { type: "Complete", status: "True", lastTransitionTime: now },
      ],
    };
    await batch.replaceNamespacedJobStatus({ name: `${name}-delete`, namespace: NS, body: delJob });
    await waitFor(`${name} released`, async () => ((await snap(name)) === undefined ? true : undefined));
  });

  it("when an index's snapshot Job fails before the run starts, then the IndexSnapshot is Failed with the Job's reason, and with no files it is deleted at once", async () => {
    const name = "hand-broken";
    const applied = await kubectl(
      cp,
      ["-n", NS, "apply", "-f", "-"],
      `apiVersion: embedops.dev/v1alpha1
kind: IndexSnapshot
metadata:
  name: ${name}
spec:
  indexRef:
    name: hand-docs
`,
    );
    expect(applied.code, applied.stderr).toBe(0);
    const job = await waitFor("the Job", () =>
      batch.readNamespacedJob({ name: `${name}-run`, namespace: NS }),
    );
    // The Job controller's verdict on a pod that could not start, written as it would write it.
    const now = new Date();
    job.status = {
      startTime: now,
      failed: 1,
      conditions: [
        {
          type: "FailureTarget",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
          lastTransitionTime: now,
        },
        {
          type: "Failed",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
          lastTransitionTime: now,
        },
      ],
    };
    await batch.replaceNamespacedJobStatus({ name: `${name}-run`, namespace: NS, body: job });
    const failed = await waitFor("Failed", async () => {
      const got = await snap(name);
      return got?.status?.phase === "Failed" ? got : undefined;
    });
    const ready = failed.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.reason).toBe("JobFailed");
    expect(ready?.message).toContain("BackoffLimitExceeded");

    // Nothing was written to the store: deleting it needs no Job.
    const del = await kubectl(cp, ["-n", NS, "delete", "isnap", name, "--wait=false"]);
    expect(del.code, del.stderr).toBe(0);
    await waitFor(`${name} released`, async () => ((await snap(name)) === undefined ? true : undefined));
    await expect(batch.readNamespacedJob({ name: `${name}-delete`, namespace: NS })).rejects.toThrow();
  });

  it("when the store is S3, then the CronJob's own command, with the Secret's keys as its env, copies to the bucket and never prints a credential", async () => {
    s3 = await startVersitygw();
    const vi = "bucket-docs";
    await core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: "s3-creds" },
        stringData: {
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        },
      },
    });
    const urls = await indexOnShards(
      "bucket",
      20,
      `  snapshot:
    schedule: "0 * * * *"
    retain: 3
    store:
      s3:
        endpoint: ${s3.endpoint}
        bucket: ${s3.bucket}
        prefix: team-a
        secretRef:
          name: s3-creds
`,
    );
    const cj = await waitFor("the CronJob", () =>
      batch.readNamespacedCronJob({ name: `${vi}-snapshot`, namespace: NS }),
    );
    const container = cj.spec?.jobTemplate.spec?.template.spec?.containers[0];
    // The pod's env as the kubelet would fill it from the secretKeyRefs.
    const secret = await core.readNamespacedSecret({ name: "s3-creds", namespace: NS });
    const env: Record<string, string> = {};
    for (const e of container?.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) env[e.name] = Buffer.from(secret.data?.[ref.key] ?? "", "base64").toString("utf8");
    }
    expect(Object.keys(env).sort()).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
    const r = await embedops(
      [
        ...(container?.args ?? []),
        ...["--kubeconfig", await runnerKubeconfig(vi)],
        ...urls.flatMap((u) => ["--shard-url", u]),
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(s3.credentials.secretAccessKey);
    const name = /isnap\/(\S+) Succeeded/.exec(r.stdout)?.[1] ?? "";
    expect(name).toMatch(new RegExp(`^${vi}-\\d{8}-\\d{6}$`));
    const done = await snap(name);
    expect(done?.status?.phase).toBe("Succeeded");
    expect(done?.status?.vectors).toBe(20);
    expect(done?.status?.location).toBe(`s3://${s3.bucket}/team-a/${vi}/${name}/`);
    expect(existsSync(join(s3.dir, s3.bucket, "team-a", vi, name, "manifest.json"))).toBe(true);
  });
});
