// A VectorIndex moving to a new generation (issue "Rollouts II") against a real kube-apiserver: the
// operator runs as the chart's ServiceAccount; stand-ins answer what only pods could (each encoder
// revision's /info, and of the move: routers' candidate, the backfill's record, the recall gate), and
// the test writes workload status as the kubelet would. Intervals are 2 s and retainPrevious 2 s, so
// a whole move takes seconds.
import { AppsV1Api, BatchV1Api, CoreV1Api, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ReplicaIo, ReplicaTarget } from "../../controllers/vector-index/replica-io.js";
import type { ReplicaObservation } from "../../controllers/vector-index/replica-seeding.js";
import { shardReplicaUrl } from "../../src/builders/shard-service.js";
import { generationName } from "../../src/core/generation.js";
import { parsePlanText } from "../../src/generation/plan.js";
import { EncoderStandIn, modelFingerprint } from "./encoder-stand-in.js";
import { backfillRecord, GenerationStandIn } from "./generation-stand-in.js";
import { adminKubeConfig } from "./harness/index.js";
import {
  type CustomView,
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
const NS = "op-generation";
const INTERVAL_S = 2;
const kc = adminKubeConfig(cp);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const encoders = new EncoderStandIn();
const moves = new GenerationStandIn();
let operator: RunningOperator;

/**
 * Stands in for new shard replicas (replica-io.ts's HTTP): a replica is not ready until the test says
 * its pod is, then reports seed watermark SEEDED_AT and every router writing to it; a catch-up the
 * operator starts (POST /v1/sync) is done at once with CAUGHT_UP rows. Records what was asked.
 */
const SEEDED_AT = 5;
const CAUGHT_UP = 3;
class ReplicaStandIn implements ReplicaIo {
  readonly observed: string[] = [];
  readonly syncs: { url: string; from: string; afterSeq: number }[] = [];
  private readonly ready = new Set<string>();
  markReady(url: string): void {
    this.ready.add(url);
  }
  async observe(t: ReplicaTarget): Promise<ReplicaObservation> {
    this.observed.push(t.url);
    if (!this.ready.has(t.url)) return { ready: false, routersWriteToIt: false, routersWhy: "not ready" };
    const started = this.syncs.find((s) => s.url === t.url);
    return {
      ready: true,
      seededAtSeq: SEEDED_AT,
      routersWriteToIt: true,
      ...(started ? { sync: { phase: "done" as const, afterSeq: started.afterSeq, rows: CAUGHT_UP } } : {}),
    };
  }
  async startSync(url: string, from: string, afterSeq: number): Promise<void> {
    this.syncs.push({ url, from, afterSeq });
  }
}
const replicaPods = new ReplicaStandIn();

interface Rollout {
  phase: string;
  reason?: string;
  message?: string;
  candidateGeneration: string;
  fromGeneration: string;
  weight: number;
}
const rolloutOf = (vi: CustomView | undefined) => vi?.status?.["rollout"] as Rollout | undefined;
const index = (name: string) => getCustom(cp, NS, "vectorindexes", name);
const model = (name: string) => getCustom(cp, NS, "embeddingmodels", name);

function manifests(name: string): string {
  return `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata:
  name: ${name}
spec:
  source:
    path: models/all-minilm-l6-v2
  dimension: 384
  pooling: mean
  runtime:
    replicas: 1
    threads: 2
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
  rollout:
    stepWeights: [50]
    retainPrevious: 2s
`;
}

const setNames = async (name: string): Promise<string[]> =>
  (await apps.listNamespacedStatefulSet({ namespace: NS, labelSelector: `embedops.dev/index=${name}` })).items
    .map((s) => s.metadata?.name ?? "")
    .sort();

async function routerConfig(indexName: string): Promise<Record<string, unknown>> {
  const cm = await core.readNamespacedConfigMap({ name: `${indexName}-router`, namespace: NS });
  return JSON.parse(cm.data?.["router.json"] ?? "{}");
}

async function eventReasons(name: string): Promise<{ type: string; reason: string; note: string }[]> {
  const list = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.regarding?.name === name && e.regarding.kind === "VectorIndex")
    .map((e) => ({ type: e.type ?? "", reason: e.reason ?? "", note: e.note ?? "" }));
}

const gone = (p: Promise<unknown>) =>
  p.then(
    () => false,
    () => true,
  );

/**
 * A model with an index on it, both ready; then a runtime edit whose candidate reports another
 * fingerprint, so the model holds it (NewGenerationRequired) and the index starts N+1.
 */
async function startMove(name: string): Promise<{ n: string; n1: string; revision: string }> {
  const vi = `${name}-docs`;
  const r = await kubectl(cp, ["-n", NS, "apply", "-f", "-"], manifests(name));
  expect(r.stderr).toBe("");
  await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, name));
  const n = generationName(modelFingerprint(name));
  await waitFor(`${vi} built on ${n}`, async () => ((await setNames(vi)).length === 2 ? true : undefined));
  for (const s of await setNames(vi)) await markWorkloadReady(cp, "StatefulSet", NS, s);
  const stable = (await model(name))?.status?.["revision"];

  const patched = await kubectl(cp, [
    ...["-n", NS, "patch", "em", name, "--type", "merge"],
    ...["-p", JSON.stringify({ spec: { runtime: { threads: 4 } } })],
  ]);
  expect(patched.code).toBe(0);
  const revision = await waitFor(`${name}'s candidate`, async () => {
    const c = (await model(name))?.status?.["canary"] as { revision?: string } | undefined;
    return c?.revision && c.revision !== stable ? c.revision : undefined;
  });
  const other = modelFingerprint(`${name}-new-weights`);
  encoders.setFingerprint(name, revision, other);
  await markWorkloadReady(cp, "Deployment", NS, `${name}-encoder-${revision}`);
  await waitFor(`${name} held at NewGenerationRequired`, async () =>
    ((await model(name))?.status?.["canary"] as { reason?: string } | undefined)?.reason ===
    "NewGenerationRequired"
      ? true
      : undefined,
  );
  return { n, n1: generationName(other), revision };
}

/** N+1's shards become ready (the stand-in's routers then report it): the backfill starts. */
async function toBackfilling(vi: string, n1: string): Promise<void> {
  const n1Sets = await waitFor(`${n1}'s StatefulSets`, async () => {
    const sets = (await setNames(vi)).filter((s) => s.includes(n1));
    return sets.length === 2 ? sets : undefined;
  });
  for (const s of n1Sets) await markWorkloadReady(cp, "StatefulSet", NS, s);
  await waitFor(`${vi} Backfilling`, async () =>
    rolloutOf(await index(vi))?.phase === "Backfilling" ? true : undefined,
  );
}

beforeAll(async () => {
  await setUpCluster(cp, NS);
  operator = await startOperator(cp, {
    namespace: NS,
    encoders,
    generations: moves,
    replicas: replicaPods,
    intervalSeconds: INTERVAL_S,
  });
});

afterAll(async () => {
  await operator?.stop();
});

describe("operator: an index moves to a new generation", () => {
  it("when the model's fingerprint changes, then N+1 is built beside N, backfilled, gated, canaried, promoted, and N pruned after retainPrevious", async () => {
    const vi = "move-docs";
    const { n, n1, revision } = await startMove("move");

    // Building: both generations' shards; N still the only generation in the routers.
    const building = await waitFor("Building", async () => {
      const got = await index(vi);
      return rolloutOf(got)?.phase === "Building" ? got : undefined;
    });
    expect(rolloutOf(building)).toMatchObject({ candidateGeneration: n1, fromGeneration: n, weight: 0 });
    expect(building.status?.["activeGeneration"]).toBe(n);
    await waitFor("both generations' StatefulSets", async () =>
      (await setNames(vi)).length === 4 ? true : undefined,
    );
    expect(await setNames(vi)).toEqual(
      [`${vi}-${n}-shard-0`, `${vi}-${n}-shard-1`, `${vi}-${n1}-shard-0`, `${vi}-${n1}-shard-1`].sort(),
    );
    expect((await routerConfig(vi))["generation"]).toBe(n);
    // A claim of N's shard, as the StatefulSet controller would have made it: it goes with N.
    await core.createNamespacedPersistentVolumeClaim({
      namespace: NS,
      body: {
        metadata: {
          name: `data-${vi}-${n}-shard-0-0`,
          labels: {
            "embedops.dev/index": vi,
            "embedops.dev/generation": n,
            "embedops.dev/shard": "shard-0",
            "embedops.dev/role": "shard",
            "app.kubernetes.io/managed-by": "embedops",
          },
        },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    });

    // Ready shards → the routers get N+1 as candidate at weight 0 → every router reports it → Backfilling.
    await toBackfilling(vi, n1);
    const dual = (await routerConfig(vi))["generations"] as Record<string, unknown>[];
    expect(dual.map((g) => [g["name"], g["role"], g["queryWeight"]])).toEqual([
      [n, "active", undefined],
      [n1, "candidate", 0],
    ]);
    expect(dual[1]?.["encoder"]).toEqual({
      url: `http://move-encoder-${revision}.${NS}.svc:8080`,
      revision,
    });
    const job = await waitFor("the backfill Job", () =>
      batch.readNamespacedJob({ name: `${vi}-backfill-${n1}`, namespace: NS }),
    );
    expect(job.spec?.template.spec?.containers[0]?.args).toEqual([
      "backfill",
      "--plan",
      "/etc/embedops/backfill/plan.json",
    ]);
    expect(job.spec?.template.spec?.containers[0]?.image).toBe("embedops-test:dev");
    const planCm = await core.readNamespacedConfigMap({ name: `${vi}-backfill-${n1}`, namespace: NS });
    const plan = parsePlanText(planCm.data?.["plan.json"] ?? "", "the plan ConfigMap");
    expect(plan).toMatchObject({ from: { generation: n }, to: { generation: n1 } });

    // The backfill reports progress: the Backfill column follows it.
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 410, 1000, 180));
    const at41 = await waitFor("41% in status", async () => {
      const got = await index(vi);
      return String(got?.status?.["backfillProgress"] ?? "").startsWith("41% ETA") ? got : undefined;
    });
    const gens = at41.status?.["generations"] as { name: string; phase: string; backfill?: unknown }[];
    expect(gens.find((g) => g.name === n1)).toMatchObject({
      phase: "Backfilling",
      backfill: { done: 410, total: 1000 },
    });
    const table = await kubectl(cp, ["-n", NS, "get", "vi", vi]);
    expect(table.stdout).toMatch(/BACKFILL/);
    expect(table.stdout).toMatch(/41% ETA [23]m/);
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 900, 1000, 20));
    await waitFor("90% in status", async () =>
      String((await index(vi))?.status?.["backfillProgress"] ?? "").startsWith("90% ETA") ? true : undefined,
    );

    // Finished → Gating; the gate passes → the query canary → promotion.
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 1000, 1000, 0, true));
    await waitFor("Gating", async () => (rolloutOf(await index(vi))?.phase === "Gating" ? true : undefined));
    await waitFor("the backfill Job removed", async () =>
      (await gone(batch.readNamespacedJob({ name: `${vi}-backfill-${n1}`, namespace: NS })))
        ? true
        : undefined,
    );
    moves.setGate(NS, vi, { pass: true, recall: 0.98, message: "recall@10 0.98 ≥ 0.90" });
    const canary = await waitFor("N+1 at 50% of queries", async () => {
      const c = (await routerConfig(vi))["generations"] as
        | { role: string; queryWeight?: number }[]
        | undefined;
      return c?.[1]?.queryWeight === 50 ? c : undefined;
    });
    expect(canary.map((g) => g.role)).toEqual(["active", "candidate"]);

    const done = await waitFor(
      "Succeeded",
      async () => {
        const got = await index(vi);
        return rolloutOf(got)?.phase === "Succeeded" ? got : undefined;
      },
      30_000,
    );
    expect(done.status?.["activeGeneration"]).toBe(n1);
    expect(done.status?.["fingerprint"]).toBe(modelFingerprint("move-new-weights"));
    const promoted = await routerConfig(vi);
    expect(promoted["generations"]).toBeUndefined();
    expect(promoted["generation"]).toBe(n1);
    expect(promoted["encoder"]).toEqual({ url: `http://move-encoder-${revision}.${NS}.svc:8080`, revision });

    // The hand-off: every index on the model serves the candidate's fingerprint, so the model promotes it.
    const em = await waitFor("the model promoted with its index", async () => {
      const got = await model("move");
      const c = got?.status?.["canary"] as { phase?: string; reason?: string } | undefined;
      return c?.phase === "Succeeded" ? got : undefined;
    });
    expect(em.status?.["canary"]).toMatchObject({ reason: "PromotedWithIndexes" });
    expect(em.status?.["fingerprint"]).toBe(modelFingerprint("move-new-weights"));
    expect(em.status?.["revision"]).toBe(revision);

    // retainPrevious (2 s) later N's shards and claims are gone; N+1's stay.
    await waitFor("N pruned", async () =>
      (await setNames(vi)).every((s) => s.includes(n1)) ? true : undefined,
    );
    expect(await setNames(vi)).toEqual([`${vi}-${n1}-shard-0`, `${vi}-${n1}-shard-1`]);
    await waitFor("N's claim deleted", async () =>
      (await gone(
        core.readNamespacedPersistentVolumeClaim({ name: `data-${vi}-${n}-shard-0-0`, namespace: NS }),
      )) ||
      (await core.readNamespacedPersistentVolumeClaim({ name: `data-${vi}-${n}-shard-0-0`, namespace: NS }))
        .metadata?.deletionTimestamp
        ? true
        : undefined,
    );
    await waitFor("N's Services deleted", async () =>
      (await gone(core.readNamespacedService({ name: `${vi}-${n}-shard-0`, namespace: NS })))
        ? true
        : undefined,
    );
    const final = await waitFor("N no longer listed", async () => {
      const got = await index(vi);
      const names = ((got?.status?.["generations"] ?? []) as { name: string }[]).map((g) => g.name);
      return names.length === 1 ? got : undefined;
    });
    expect(final.status?.["generations"]).toMatchObject([{ name: n1, phase: "Active" }]);
    expect(final.status?.["backfillProgress"]).toBeUndefined();

    const reasons = (await eventReasons(vi)).map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        "GenerationStarted",
        "BackfillStarted",
        "BackfillComplete",
        "CanaryWeight",
        "Promoting",
        "Promoted",
      ]),
    );
  });

  it("when the recall gate fails, then N+1 is rolled back (its shards and Job deleted) and N is untouched", async () => {
    const vi = "gate-docs";
    const { n, n1 } = await startMove("gate");
    const before = await Promise.all(
      [0, 1].map((s) => apps.readNamespacedStatefulSet({ name: `${vi}-${n}-shard-${s}`, namespace: NS })),
    );
    await toBackfilling(vi, n1);
    await waitFor("the backfill Job", () =>
      batch.readNamespacedJob({ name: `${vi}-backfill-${n1}`, namespace: NS }),
    );
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 1000, 1000, 0, true));
    moves.setGate(NS, vi, {
      pass: false,
      recall: 0.12,
      message: "recall@10 of generation N+1 is 0.12, below minRecall 0.90",
    });
    const failed = await waitFor("Failed", async () => {
      const got = await index(vi);
      return rolloutOf(got)?.phase === "Failed" ? got : undefined;
    });
    expect(rolloutOf(failed)).toMatchObject({ reason: "RecallGateFailed", weight: 0 });
    expect(rolloutOf(failed)?.message).toMatch(/0\.12, below minRecall/);
    expect(failed.status?.["activeGeneration"]).toBe(n);

    await waitFor("N+1's StatefulSets deleted", async () =>
      (await setNames(vi)).every((s) => !s.includes(n1)) ? true : undefined,
    );
    expect(await setNames(vi)).toEqual([`${vi}-${n}-shard-0`, `${vi}-${n}-shard-1`]);
    expect(await gone(batch.readNamespacedJob({ name: `${vi}-backfill-${n1}`, namespace: NS }))).toBe(true);
    expect(await gone(core.readNamespacedConfigMap({ name: `${vi}-backfill-${n1}`, namespace: NS }))).toBe(
      true,
    );
    const after = await Promise.all(
      [0, 1].map((s) => apps.readNamespacedStatefulSet({ name: `${vi}-${n}-shard-${s}`, namespace: NS })),
    );
    expect(after.map((s) => s.metadata?.uid)).toEqual(before.map((s) => s.metadata?.uid));
    expect(after.map((s) => s.metadata?.generation)).toEqual(before.map((s) => s.metadata?.generation));
    const config = await routerConfig(vi);
    expect(config["generations"]).toBeUndefined();
    expect(config["generation"]).toBe(n);

    const warning = await waitFor("the RecallGateFailed Warning", async () =>
      (await eventReasons(vi)).find((e) => e.type === "Warning" && e.reason === "RecallGateFailed"),
    );
    expect(warning.note).toMatch(/rolled back before any query/);

    // The hand-off: the model gives its candidate up, and its stable keeps serving N.
    const em = await waitFor("the model's candidate failed", async () => {
      const got = await model("gate");
      return (got?.status?.["canary"] as { phase?: string } | undefined)?.phase === "Failed"
        ? got
        : undefined;
    });
    expect(em.status?.["canary"]).toMatchObject({ reason: "IndexGenerationFailed" });
    expect(String((em.status?.["canary"] as { message?: string } | undefined)?.message)).toMatch(
      /index gate-docs did not move/,
    );
    expect(em.status?.["fingerprint"]).toBe(modelFingerprint("gate"));
    // The index keeps N, and its failed move stays visible.
    const settled = await index(vi);
    expect(settled?.status?.["activeGeneration"]).toBe(n);
    expect(rolloutOf(settled)?.phase).toBe("Failed");
  });

  it("when the operator restarts mid-backfill, then the new one resumes the move from status and promotes", async () => {
    const vi = "restart-docs";
    const { n, n1 } = await startMove("restart");
    await toBackfilling(vi, n1);
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 500, 1000, 100));
    await waitFor("50% in status", async () =>
      String((await index(vi))?.status?.["backfillProgress"] ?? "").startsWith("50% ETA") ? true : undefined,
    );
    await operator.stop();
    const during = rolloutOf(await index(vi));
    operator = await startOperator(cp, {
      namespace: NS,
      encoders,
      generations: moves,
      replicas: replicaPods,
      intervalSeconds: INTERVAL_S,
    });
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 1000, 1000, 0, true));
    moves.setGate(NS, vi, { pass: true, recall: 0.97, message: "recall@10 0.97 ≥ 0.90" });
    const done = await waitFor(
      "promoted by the new operator",
      async () => {
        const got = await index(vi);
        return rolloutOf(got)?.phase === "Succeeded" ? got : undefined;
      },
      30_000,
    );
    expect(during).toMatchObject({ phase: "Backfilling", candidateGeneration: n1 });
    expect(done.status?.["activeGeneration"]).toBe(n1);
    // The same move, not a new one: it started before the restart.
    expect((rolloutOf(done) as Rollout & { startedAt?: string }).startedAt).toBe(
      (during as Rollout & { startedAt?: string }).startedAt,
    );
  });

  it("when the abort annotation names N+1's fingerprint, then the move is rolled back at once", async () => {
    const vi = "abort-docs";
    const { n, n1 } = await startMove("abort");
    await toBackfilling(vi, n1);
    const fp12 = modelFingerprint("abort-new-weights").slice(0, 12);
    const r = await kubectl(cp, [
      ...["-n", NS, "annotate", "--overwrite", "vi", vi],
      `embedops.dev/rollout-command=abort:${fp12}`,
    ]);
    expect(r.code).toBe(0);
    const aborted = await waitFor("Aborted", async () => {
      const got = await index(vi);
      return rolloutOf(got)?.reason === "Aborted" ? got : undefined;
    });
    expect(rolloutOf(aborted)).toMatchObject({ phase: "Failed", candidateGeneration: n1 });
    await waitFor("N+1's StatefulSets deleted", async () =>
      (await setNames(vi)).every((s) => !s.includes(n1)) ? true : undefined,
    );
    expect(await setNames(vi)).toEqual([`${vi}-${n}-shard-0`, `${vi}-${n}-shard-1`]);
  });
  it("when spec.replicas goes 1 -> 2 during a move, then N and N+1 keep 1 replica (also across an operator restart) and say so; after the promotion N+1 is raised to 2 and its new replicas are seeded, listed as syncing, caught up from replica 0 and served", async () => {
    const vi = "grow-docs";
    const { n, n1 } = await startMove("grow");
    await toBackfilling(vi, n1);
    const replicasOf = async () =>
      Object.fromEntries(
        (
          await apps.listNamespacedStatefulSet({ namespace: NS, labelSelector: `embedops.dev/index=${vi}` })
        ).items.map((s) => [s.metadata?.name ?? "", s.spec?.replicas]),
      );
    const r = await kubectl(cp, [
      ...["-n", NS, "patch", "vi", vi, "--type", "merge"],
      ...["-p", JSON.stringify({ spec: { replicas: 2 } })],
    ]);
    expect(r.code).toBe(0);

    // The wait is reported: the Progressing condition and an Event.
    const waiting = await waitFor("the Progressing condition names the wait", async () => {
      const got = await index(vi);
      const conditions = (got?.status?.["conditions"] ?? []) as { type: string; message?: string }[];
      const m = conditions.find((c) => c.type === "Progressing")?.message ?? "";
      return m.includes("replica change waits for the generation move") ? m : undefined;
    });
    expect(waiting).toContain(`${n} keeps 1`);
    expect(waiting).toContain(`${n1} keeps 1`);
    const noted = await waitFor("a ReplicaChangeWaits Event", async () =>
      (await eventReasons(vi)).find((x) => x.reason === "ReplicaChangeWaits"),
    );
    expect(noted.note).toContain("spec.replicas 2 applies to the active generation once the move ends");

    // Across a restart: the new operator reads the counts back from the StatefulSets. It has
    // reconciled once status shows the backfill progress set after it started.
    await operator.stop();
    operator = await startOperator(cp, {
      namespace: NS,
      encoders,
      generations: moves,
      replicas: replicaPods,
      intervalSeconds: INTERVAL_S,
    });
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 600, 1000, 60));
    await waitFor("60% in status (the new operator reconciled)", async () =>
      String((await index(vi))?.status?.["backfillProgress"] ?? "").startsWith("60% ETA") ? true : undefined,
    );
    expect(await replicasOf()).toEqual({
      [`${vi}-${n}-shard-0`]: 1,
      [`${vi}-${n}-shard-1`]: 1,
      [`${vi}-${n1}-shard-0`]: 1,
      [`${vi}-${n1}-shard-1`]: 1,
    });
    const during = (await routerConfig(vi))["generations"] as { shards: { replicas: string[] }[] }[];
    expect(during.map((g) => g.shards.map((s) => s.replicas.length))).toEqual([
      [1, 1],
      [1, 1],
    ]);
    const planCm = await core.readNamespacedConfigMap({ name: `${vi}-backfill-${n1}`, namespace: NS });
    const plan = parsePlanText(planCm.data?.["plan.json"] ?? "", "the plan ConfigMap");
    expect(plan.to.shards.map((s) => s.replicas.length)).toEqual([1, 1]);
    expect((await index(vi))?.status?.["replicaSync"]).toMatchObject({
      generation: n,
      servingReplicas: 1,
      replicas: [],
    });

    // No replica of N+1 was observed for seeding while the move ran: none was added.
    expect(replicaPods.observed.filter((u) => u.includes(n1))).toEqual([]);

    // The move ends: N+1 is promoted, then raised; its replicas 1 go through the seeding flow.
    moves.setBackfill(NS, vi, backfillRecord(n, n1, 1000, 1000, 0, true));
    moves.setGate(NS, vi, { pass: true, recall: 0.97, message: "recall@10 0.97 ≥ 0.90" });
    await waitFor(
      "Succeeded",
      async () => (rolloutOf(await index(vi))?.phase === "Succeeded" ? true : undefined),
      30_000,
    );
    const url = (shard: string, replica: number) => shardReplicaUrl(vi, n1, shard, replica, NS);
    const seeding = await waitFor("N+1's replicas 1 Seeding and listed as syncing", async () => {
      const sync = (await index(vi))?.status?.["replicaSync"] as
        | { generation: string; servingReplicas: number; replicas: { phase: string }[] }
        | undefined;
      const shards = (await routerConfig(vi))["shards"] as
        | { name: string; replicas: string[]; syncing?: string[] }[]
        | undefined;
      return sync?.generation === n1 && sync.replicas.length === 2 && shards?.[0]?.syncing
        ? { sync, shards }
        : undefined;
    });
    expect(seeding.sync).toMatchObject({
      generation: n1,
      servingReplicas: 1,
      replicas: [
        { shard: "shard-0", replica: 1, phase: "Seeding" },
        { shard: "shard-1", replica: 1, phase: "Seeding" },
      ],
    });
    expect(seeding.shards).toEqual([
      { name: "shard-0", replicas: [url("shard-0", 0), url("shard-0", 1)], syncing: [url("shard-0", 1)] },
      { name: "shard-1", replicas: [url("shard-1", 0), url("shard-1", 1)], syncing: [url("shard-1", 1)] },
    ]);
    expect(await replicasOf()).toMatchObject({ [`${vi}-${n1}-shard-0`]: 2, [`${vi}-${n1}-shard-1`]: 2 });

    // The pods are seeded and ready: the operator catches them up from replica 0 after the seed
    // watermark, then the routers query them.
    for (const shard of ["shard-0", "shard-1"]) replicaPods.markReady(url(shard, 1));
    const synced = await waitFor(
      "Synced",
      async () => {
        const sync = (await index(vi))?.status?.["replicaSync"] as
          | { servingReplicas: number; replicas: { phase: string }[] }
          | undefined;
        return sync?.servingReplicas === 2 ? sync : undefined;
      },
      30_000,
    );
    expect(synced.replicas).toMatchObject([
      { shard: "shard-0", replica: 1, phase: "Synced", seededAtSeq: SEEDED_AT, rowsCaughtUp: CAUGHT_UP },
      { shard: "shard-1", replica: 1, phase: "Synced", seededAtSeq: SEEDED_AT, rowsCaughtUp: CAUGHT_UP },
    ]);
    const syncs = replicaPods.syncs.filter((x) => x.url.includes(n1));
    expect(syncs.sort((a, b) => a.url.localeCompare(b.url))).toEqual([
      { url: url("shard-0", 1), from: url("shard-0", 0), afterSeq: SEEDED_AT },
      { url: url("shard-1", 1), from: url("shard-1", 0), afterSeq: SEEDED_AT },
    ]);
    const served = await waitFor("the router config without syncing", async () => {
      const shards = (await routerConfig(vi))["shards"] as { syncing?: string[] }[] | undefined;
      return shards?.every((x) => x.syncing === undefined) ? shards : undefined;
    });
    expect(served).toHaveLength(2);
    const reasons = (await eventReasons(vi)).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["ReplicaChangeWaits", "Promoted", "ReplicaSynced"]));
  });
});
