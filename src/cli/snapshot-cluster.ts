// `embedops snapshot create|run --kube`: a snapshot run in a cluster, recorded as an IndexSnapshot.
// The VectorIndex's CronJob runs `create --kube --index NAME --namespace NS` (a new object
// <index>-YYYYMMDD-HHMMSS, labelled scheduled, then spec.snapshot.retain); an IndexSnapshot's Job runs
// `run NAME --kube --namespace NS` (an object someone applied by hand). Both take the object over
// with the runner annotation (the operator then starts nothing), write status Running, copy every
// shard of the active generation (one replica each) to the store and write Succeeded or Failed.
// The kubeconfig is --kubeconfig, $KUBECONFIG, ~/.kube/config or the pod's ServiceAccount, in that
// order (src/kube/client.ts). Shard replica URLs are the shard Services' DNS names, which resolve
// only inside the cluster; --shard-url (one per shard, replicas comma-separated) replaces them.
import { hostname } from "node:os";
import { resolve } from "node:path";
import { type KubernetesObject, PatchStrategy } from "@kubernetes/client-node";
import {
  orphanedRuns,
  RUNNER_ANNOTATION,
  RUNNER_FIELD_MANAGER,
  type RunOutcome,
  type RunStart,
  retentionCandidatesOf,
  runStatus,
  SCHEDULED,
  type SnapshotObject,
  STORE_DELETED_ANNOTATION,
  TRIGGER_LABEL,
} from "../../controllers/index-snapshot/run-status.js";
import type { IndexSnapshotStatus, VectorIndex } from "../api/v1alpha1/index.js";
import { LABEL } from "../builders/labels.js";
import { shardReplicaUrl } from "../builders/shard-service.js";
import { shardNames } from "../core/generation.js";
import { Applier } from "../kube/apply.js";
import { type KubeClients, loadKubeConfig, makeClients } from "../kube/client.js";
import { scheduledSnapshotName } from "../local/snapshot-scheduler.js";
import { createSnapshot } from "../snapshot/create.js";
import { snapshotRoot } from "../snapshot/layout.js";
import { retentionDecision } from "../snapshot/retention.js";
import type { SnapshotStore } from "../snapshot/store.js";
import { createLogger, type Logger } from "../util/log.js";
import { pick, UsageError } from "./options.js";

const API_VERSION = "embedops.dev/v1alpha1";
type Values = Record<string, unknown>;
export type OpenStore = (values: Values) => { store: SnapshotStore; prefix: string };

interface Cluster {
  readonly clients: KubeClients;
  readonly applier: Applier;
  readonly namespace: string;
  readonly log: Logger;
}

function connect(values: Values): Cluster {
  const namespace = pick(values, "namespace");
  if (namespace === undefined)
    throw new UsageError("--kube needs --namespace NS (the VectorIndex's namespace)");
  const clients = makeClients(loadKubeConfig({ path: pick(values, "kubeconfig") }));
  return {
    clients,
    applier: new Applier(clients.objects, { fieldManager: RUNNER_FIELD_MANAGER }),
    namespace,
    log: createLogger({ role: "snapshot" }),
  };
}

const ref = (c: Cluster, kind: string, name: string): KubernetesObject => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace: c.namespace },
});

async function readIndex(c: Cluster, name: string): Promise<VectorIndex> {
  try {
    return (await c.clients.objects.read(ref(c, "VectorIndex", name) as never)) as unknown as VectorIndex;
  } catch (err) {
    throw new Error(
      `cannot read VectorIndex ${c.namespace}/${name}: ${(err as Error).message}; check --index and --namespace`,
    );
  }
}

/** --shard-url per shard ("url[,url...]"), else each shard's replicas through their headless Services. */
export function shardUrls(
  flag: readonly string[] | undefined,
  index: string,
  generation: string,
  shards: number,
  replicas: number,
  namespace: string,
): string[][] {
  if (flag && flag.length > 0) {
    if (flag.length !== shards)
      throw new UsageError(
        `--shard-url given ${flag.length} times; VectorIndex ${index} has ${shards} shards`,
      );
    return flag.map((f) => f.split(",").filter((u) => u !== ""));
  }
  return shardNames(shards).map((shard) =>
    Array.from({ length: replicas }, (_, r) => shardReplicaUrl(index, generation, shard, r, namespace)),
  );
}

/** In a cluster the shards are other pods: each serves its copy over HTTP (the default); --staging DIR only where they share a disk with this process. */
function stagingOf(values: Values): { stagingDir?: string } {
  const dir = pick(values, "staging");
  return dir === undefined || dir === "http" ? {} : { stagingDir: resolve(dir) };
}

async function writeStatus(c: Cluster, name: string, status: IndexSnapshotStatus): Promise<void> {
  await c.applier.applyStatus(ref(c, "IndexSnapshot", name), status, undefined);
}

/** Running, the copy, then Succeeded or Failed; returns the outcome (never throws for a failed copy). */
async function drive(
  c: Cluster,
  values: Values,
  openStore: OpenStore,
  snapshot: KubernetesObject & { status?: IndexSnapshotStatus },
  vi: VectorIndex,
): Promise<{ outcome: RunOutcome; store?: { store: SnapshotStore; prefix: string } }> {
  const name = snapshot.metadata?.name ?? "";
  const index = vi.metadata.name;
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const generation = vi.status?.activeGeneration ?? "";
  const start: RunStart = {
    generation,
    fingerprint: vi.status?.fingerprint ?? "",
    startedAt: now(),
    location: "",
  };
  let previous = snapshot.status;
  const record = async (s: RunStart, outcome: RunOutcome) => {
    const status = runStatus({
      start: s,
      outcome,
      objectGeneration: snapshot.metadata?.generation,
      previous,
      now: now(),
    });
    await writeStatus(c, name, status);
    previous = status;
  };
  let opened: { store: SnapshotStore; prefix: string } | undefined;
  let outcome: RunOutcome;
  try {
    if (!generation || !start.fingerprint)
      throw new Error(
        `VectorIndex ${index} has no active generation yet (status.activeGeneration); wait until it is Ready`,
      );
    const wanted = (snapshot as { spec?: { generation?: string } }).spec?.generation;
    if (wanted !== undefined && wanted !== generation)
      throw new Error(
        `spec.generation ${wanted} is not VectorIndex ${index}'s active generation ${generation}; only the active generation is copied`,
      );
    opened = openStore(values);
    const running = {
      ...start,
      location: `${opened.store.location}${snapshotRoot(opened.prefix, index, name)}`,
    };
    Object.assign(start, running);
    await record(start, { phase: "Running" });
    const shards = shardUrls(
      values["shard-url"] as string[] | undefined,
      index,
      generation,
      vi.spec.shards,
      vi.spec.replicas,
      c.namespace,
    );
    const made = await createSnapshot({
      store: opened.store,
      prefix: opened.prefix,
      index,
      snapshot: name,
      generation,
      fingerprint: start.fingerprint,
      shards,
      ...stagingOf(values),
      log: c.log,
    });
    outcome = { phase: "Succeeded", shards: made.shards, bytes: made.bytes };
  } catch (err) {
    outcome = { phase: "Failed", error: (err as Error).message };
  }
  await record(start, outcome);
  const summary = { index, snapshot: name, namespace: c.namespace, phase: outcome.phase };
  if (outcome.phase === "Failed") c.log.error("snapshot run failed", { ...summary, error: outcome.error });
  else c.log.info("snapshot run complete", summary);
  return { outcome, ...(opened ? { store: opened } : {}) };
}

/** The index's scheduled IndexSnapshots. */
async function listScheduled(c: Cluster, index: string): Promise<SnapshotObject[]> {
  const listed = await c.clients.objects.list(
    API_VERSION,
    "IndexSnapshot",
    c.namespace,
    undefined,
    undefined,
    undefined,
    undefined,
    `${LABEL.index}=${index},${TRIGGER_LABEL}=${SCHEDULED}`,
  );
  return listed.items as SnapshotObject[];
}

/** Marks Failed the scheduled runs whose runner is gone (orphanedRuns); their status keeps what they recorded. */
async function failOrphans(c: Cluster, index: string): Promise<string[]> {
  const items = await listScheduled(c, index);
  const names = orphanedRuns(items);
  for (const name of names) {
    const obj = items.find((o) => o.metadata?.name === name) as
      | (SnapshotObject & { status?: IndexSnapshotStatus; metadata?: { generation?: number } })
      | undefined;
    const prev = obj?.status;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    await writeStatus(
      c,
      name,
      runStatus({
        start: {
          generation: prev?.generation ?? "",
          fingerprint: prev?.fingerprint ?? "",
          startedAt: prev?.startedAt ?? now,
          location: prev?.location ?? "",
        },
        outcome: {
          phase: "Failed",
          error:
            `its runner (${obj?.metadata?.annotations?.[RUNNER_ANNOTATION]}) ended without recording an end ` +
            "(pod killed or evicted); the copy is incomplete and restore refuses it",
        },
        objectGeneration: obj?.metadata?.generation,
        previous: prev,
        now,
      }),
    );
    c.log.warn("snapshot run orphaned: marked Failed", { index, snapshot: name });
  }
  return names;
}

/** Scheduled snapshots of the index beyond spec.snapshot.retain, and Failed ones after a day: files, then objects. */
async function applyRetention(
  c: Cluster,
  vi: VectorIndex,
  opened: { store: SnapshotStore; prefix: string } | undefined,
): Promise<string[]> {
  const index = vi.metadata.name;
  const listed = { items: await listScheduled(c, index) };
  const drop = retentionDecision(
    retentionCandidatesOf(listed.items as SnapshotObject[]),
    vi.spec.snapshot?.retain ?? 0,
    Date.now(),
  );
  for (const name of drop) {
    const files = opened ? await opened.store.deletePrefix(snapshotRoot(opened.prefix, index, name)) : 0;
    if (opened)
      await c.clients.objects.patch(
        {
          ...ref(c, "IndexSnapshot", name),
          metadata: { name, namespace: c.namespace, annotations: { [STORE_DELETED_ANNOTATION]: "true" } },
        },
        undefined,
        undefined,
        RUNNER_FIELD_MANAGER,
        undefined,
        PatchStrategy.MergePatch,
      );
    await c.clients.objects.delete(ref(c, "IndexSnapshot", name));
    c.log.info("snapshot retention deleted", { index, snapshot: name, objects: files });
  }
  return drop;
}

const runnerId = () => process.env.HOSTNAME ?? hostname();

function report(name: string, outcome: RunOutcome, deleted: readonly string[]): void {
  if (outcome.phase === "Failed")
    throw new Error(`snapshot ${name} failed: ${outcome.error} (recorded in isnap/${name}'s conditions)`);
  const s = outcome.phase === "Succeeded" ? outcome : undefined;
  const vectors = s ? s.shards.reduce((n, m) => n + m.vectorCount, 0) : 0;
  process.stdout.write(
    `isnap/${name} Succeeded: ${s?.shards.length ?? 0} shards, ${vectors} vectors` +
      `${deleted.length > 0 ? `; retention deleted ${deleted.join(", ")}` : ""}\n`,
  );
}

/** `snapshot create --kube --index NAME`: a new scheduled IndexSnapshot, the run, then retention. */
export async function clusterCreate(values: Values, openStore: OpenStore): Promise<void> {
  const index = pick(values, "index");
  if (index === undefined) throw new UsageError("snapshot create --kube needs --index NAME (a VectorIndex)");
  const c = connect(values);
  const vi = await readIndex(c, index);
  // The CronJob forbids overlapping runs: a scheduled run still open now lost its runner.
  await failOrphans(c, index);
  const name = pick(values, "name") ?? scheduledSnapshotName(index, new Date());
  const created = await c.clients.objects.create({
    apiVersion: API_VERSION,
    kind: "IndexSnapshot",
    metadata: {
      name,
      namespace: c.namespace,
      labels: { [LABEL.index]: index, [TRIGGER_LABEL]: SCHEDULED },
      annotations: { [RUNNER_ANNOTATION]: runnerId() },
    },
    spec: {
      indexRef: { name: index },
      ...(vi.status?.activeGeneration ? { generation: vi.status.activeGeneration } : {}),
    },
  } as KubernetesObject);
  const { outcome, store } = await drive(c, values, openStore, created, vi);
  // After a failed run too: retention only ever deletes beyond `retain` Succeeded ones (and day-old failures).
  const deleted = await applyRetention(c, vi, store);
  report(name, outcome, deleted);
}

/** `snapshot run NAME --kube`: drives an IndexSnapshot applied by hand (what its Job runs). */
export async function clusterRun(values: Values, target: string, openStore: OpenStore): Promise<void> {
  // kubectl's spelling works too: isnap/NAME.
  const name = target.replace(/^(isnap|indexsnapshots?(\.embedops\.dev)?)\//, "");
  const c = connect(values);
  const obj = (await c.clients.objects.read(ref(c, "IndexSnapshot", name) as never)) as KubernetesObject & {
    spec?: { indexRef?: { name?: string } };
    status?: IndexSnapshotStatus;
  };
  const phase = obj.status?.phase;
  if (phase === "Succeeded" || phase === "Failed")
    throw new UsageError(`isnap/${name} is already ${phase}; create a new IndexSnapshot to copy again`);
  const taken = await c.clients.objects.patch(
    {
      ...ref(c, "IndexSnapshot", name),
      metadata: { name, namespace: c.namespace, annotations: { [RUNNER_ANNOTATION]: runnerId() } },
    },
    undefined,
    undefined,
    RUNNER_FIELD_MANAGER,
    undefined,
    PatchStrategy.MergePatch,
  );
  const vi = await readIndex(c, obj.spec?.indexRef?.name ?? "");
  const { outcome } = await drive(c, values, openStore, taken as typeof obj, vi);
  report(name, outcome, []);
}
