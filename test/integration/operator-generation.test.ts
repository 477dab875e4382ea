// A VectorIndex moving to a new generation (issue "Rollouts II") against a real kube-apiserver: the
// operator runs as the chart's ServiceAccount; stand-ins answer what only pods could (each encoder
// revision's /info, and of the move: routers' candidate, the backfill's record, the recall gate), and
// the test writes workload status as the kubelet would. Intervals are 2 s and retainPrevious 2 s, so
// a whole move takes seconds.
import { AppsV1Api, BatchV1Api, CoreV1Api, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
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
});
