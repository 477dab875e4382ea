// Encoder rollouts (issue 8) against a real kube-apiserver: the operator runs as the chart's
// ServiceAccount; a stand-in answers each revision's /info and /metrics (no pods run here) and the
// test writes Deployment status as the kubelet would. The analysis interval is 2 s (the CRD's
// minimum is 10 s; the operator's test cap), so a rollout of two steps takes seconds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generationName } from "../../src/core/generation.js";
import { EncoderStandIn, modelFingerprint } from "./encoder-stand-in.js";
import { adminKubeConfig } from "./harness/index.js";
import {
  type CustomView,
  conditionOf,
  encoderDeploymentName,
  execFileAsync,
  getCustom,
  kubectl,
  markWorkloadReady,
  type RunningOperator,
  setUpCluster,
  startOperator,
  waitFor,
} from "./operator-harness.js";

const cp = inject("controlPlane");
const CLI = join(import.meta.dirname, "..", "..", "bin", "embedops.mjs");
const NS = "op-rollout";
const INTERVAL_S = 2;
const kc = adminKubeConfig(cp);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const encoders = new EncoderStandIn();
let operator: RunningOperator;

interface Canary {
  phase: string;
  reason?: string;
  revision: string;
  stableRevision: string;
  weight: number;
  fingerprint?: string;
}
const canaryOf = (em: CustomView | undefined) => em?.status?.["canary"] as Canary | undefined;
const model = (name: string) => getCustom(cp, NS, "embeddingmodels", name);

function manifests(name: string, withIndex: boolean): string {
  const em = `apiVersion: embedops.dev/v1alpha1
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
  rollout:
    analysisIntervalSeconds: 10
    stepWeights: [10, 50]
    maxFailedChecks: 1
    slo:
      maxP99LatencyMs: 500
      minRequests: 20
`;
  const vi = `---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata:
  name: ${name}-docs
spec:
  modelRef:
    name: ${name}
  shards: 1
  replicas: 1
  auth:
    enabled: false
`;
  return withIndex ? em + vi : em;
}

/** Applies a model (and an index on it), rolls out its first revision, waits for its fingerprint. */
async function deployStable(name: string, withIndex = false): Promise<string> {
  const r = await kubectl(cp, ["-n", NS, "apply", "-f", "-"], manifests(name, withIndex));
  expect(r.stderr).toBe("");
  await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, name));
  const em = await waitFor(`${name} Ready`, async () => {
    const got = await model(name);
    return conditionOf(got, "Ready")?.status === "True" ? got : undefined;
  });
  expect(em.status?.["fingerprint"]).toBe(modelFingerprint(name));
  return em.status?.["revision"] as string;
}

/** A runtime edit (same weights, same fingerprint): the spec's revision changes. */
async function editRuntime(name: string, threads: number): Promise<Canary> {
  const stable = (await model(name))?.status?.["revision"];
  const r = await kubectl(cp, [
    ...["-n", NS, "patch", "em", name, "--type", "merge"],
    ...["-p", JSON.stringify({ spec: { runtime: { threads } } })],
  ]);
  expect(r.code).toBe(0);
  return waitFor(`${name}'s candidate`, async () => {
    const c = canaryOf(await model(name));
    return c && c.revision !== stable && c.phase === "Initializing" ? c : undefined;
  });
}

async function routerEncoder(index: string): Promise<Record<string, unknown> | undefined> {
  const cm = await core.readNamespacedConfigMap({ name: `${index}-router`, namespace: NS });
  return JSON.parse(cm.data?.["router.json"] ?? "{}").encoder;
}

const deploymentGone = (name: string) =>
  apps.readNamespacedDeployment({ name, namespace: NS }).then(
    () => false,
    () => true,
  );

async function eventsOf(name: string): Promise<{ type: string; reason: string; note: string; at: number }[]> {
  const list = await kc.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items
    .filter((e) => e.regarding?.name === name && e.regarding.kind === "EmbeddingModel")
    .map((e) => ({
      type: e.type ?? "",
      reason: e.reason ?? "",
      note: e.note ?? "",
      at: new Date(e.eventTime ?? 0).getTime(),
    }));
}

beforeAll(async () => {
  await setUpCluster(cp, NS);
  operator = await startOperator(cp, { namespace: NS, encoders, intervalSeconds: INTERVAL_S });
});

afterAll(async () => {
  await operator?.stop();
});

describe("operator: an encoder rollout", () => {
  it("when the runtime changes, then the candidate runs beside the stable, routers send it stepWeights[0], and it is promoted", async () => {
    const stable = await deployStable("good", true);
    const vi = await waitFor("index resolved", async () => {
      const got = await getCustom(cp, NS, "vectorindexes", "good-docs");
      return conditionOf(got, "ModelResolved")?.status === "True" ? got : undefined;
    });
    const generation = vi.status?.["activeGeneration"];
    expect(generation).toBe(generationName(modelFingerprint("good")));
    expect(await routerEncoder("good-docs")).toEqual({
      url: `http://good-encoder-${stable}.${NS}.svc:8080`,
      revision: stable,
    });

    const c = await editRuntime("good", 4);
    expect(c.stableRevision).toBe(stable);
    const candidate = `good-encoder-${c.revision}`;
    await waitFor("the candidate's Deployment and Service", async () =>
      (await apps.readNamespacedDeployment({ name: candidate, namespace: NS })) &&
      (await core.readNamespacedService({ name: candidate, namespace: NS })).spec?.selector?.[
        "embedops.dev/revision"
      ] === c.revision
        ? true
        : undefined,
    );
    await markWorkloadReady(cp, "Deployment", NS, candidate);

    const atTen = await waitFor("the router's canary at 10%", async () => {
      const enc = await routerEncoder("good-docs");
      return (enc?.["canary"] as { weight?: number } | undefined)?.weight === 10 ? enc : undefined;
    });
    expect(atTen).toEqual({
      url: `http://good-encoder-${stable}.${NS}.svc:8080`,
      revision: stable,
      canary: { url: `http://${candidate}.${NS}.svc:8080`, revision: c.revision, weight: 10 },
    });
    const progressing = canaryOf(await model("good"));
    expect(progressing).toMatchObject({
      phase: "Progressing",
      weight: 10,
      fingerprint: modelFingerprint("good"),
    });

    const done = await waitFor(
      "promoted",
      async () => {
        const em = await model("good");
        return canaryOf(em)?.phase === "Succeeded" && em?.status?.["revision"] === c.revision
          ? em
          : undefined;
      },
      30_000,
    );
    // Kept while routers load their new config (min(90 s, 3 intervals)), then removed.
    expect(await deploymentGone(`good-encoder-${stable}`)).toBe(false);
    await waitFor("the old revision removed", async () =>
      (await deploymentGone(`good-encoder-${stable}`)) &&
      (await core.readNamespacedService({ name: `good-encoder-${stable}`, namespace: NS }).then(
        () => false,
        () => true,
      ))
        ? true
        : undefined,
    );
    expect(conditionOf(done, "Degraded")?.status).toBe("False");
    // The index follows the model's status write through the model watch.
    const promoted = await waitFor("the router on the new stable alone", async () => {
      const enc = await routerEncoder("good-docs");
      return enc?.["revision"] === c.revision ? enc : undefined;
    });
    expect(promoted).toEqual({ url: `http://${candidate}.${NS}.svc:8080`, revision: c.revision });
    // Same fingerprint: the index keeps its generation and its data.
    expect((await getCustom(cp, NS, "vectorindexes", "good-docs"))?.status?.["activeGeneration"]).toBe(
      generation,
    );
    const reasons = (await eventsOf("good")).map((e) => e.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(["RolloutStarted", "CanaryWeight", "Promoting", "Promoted"]),
    );
  });

  it("when the candidate's p99 is above the SLO, then it is rolled back within interval × (maxFailedChecks + 1) + 5 s", async () => {
    const stable = await deployStable("bad");
    const c = await editRuntime("bad", 4);
    encoders.setLatency("bad", c.revision, "slow");
    const candidate = `bad-encoder-${c.revision}`;
    await waitFor("candidate Deployment", () =>
      apps.readNamespacedDeployment({ name: candidate, namespace: NS }),
    );
    await markWorkloadReady(cp, "Deployment", NS, candidate);

    await waitFor(
      "first traffic to the candidate",
      async () => ((canaryOf(await model("bad"))?.weight ?? 0) > 0 ? true : undefined),
      20_000,
    );
    const firstTraffic = Date.now();
    const failed = await waitFor("Failed", async () => {
      const em = await model("bad");
      return canaryOf(em)?.phase === "Failed" ? em : undefined;
    });
    const elapsedMs = Date.now() - firstTraffic;
    const boundMs = INTERVAL_S * 1000 * (1 + 1) + 5000;
    console.log(`bad candidate: first traffic → Failed in ${elapsedMs} ms (bound ${boundMs} ms)`);
    expect(elapsedMs).toBeLessThan(boundMs);

    expect(canaryOf(failed)).toMatchObject({ phase: "Failed", reason: "RolloutFailed", weight: 0 });
    expect(conditionOf(failed, "Degraded")).toMatchObject({ status: "True", reason: "RolloutFailed" });
    expect(failed.status?.["revision"]).toBe(stable);
    await waitFor("candidate scaled to 0", async () =>
      (await apps.readNamespacedDeployment({ name: candidate, namespace: NS })).spec?.replicas === 0
        ? true
        : undefined,
    );
    const stableDeployment = await apps.readNamespacedDeployment({
      name: `bad-encoder-${stable}`,
      namespace: NS,
    });
    expect(stableDeployment.spec?.replicas).toBe(1);
    const warning = await waitFor("the RolloutFailed Warning", async () =>
      (await eventsOf("bad")).find((e) => e.type === "Warning" && e.reason === "RolloutFailed"),
    );
    expect(warning.note).toMatch(/p99 [\d.]+ ms > 500 ms at weight 10%/);
    // The operator's own clock: from the event that moved traffic to the one that took it back.
    const weighted = (await eventsOf("bad")).find((e) => e.reason === "CanaryWeight");
    console.log(
      `bad candidate (event times): CanaryWeight → RolloutFailed in ${warning.at - (weighted?.at ?? 0)} ms`,
    );
    expect(warning.at - (weighted?.at ?? 0)).toBeLessThan(boundMs);
    const counted = await operator.runtime.metrics.registry.getSingleMetricAsString(
      "embedops_operator_rollouts_total",
    );
    expect(counted).toMatch(/embedops_operator_rollouts_total\{result="Failed",reason="RolloutFailed"\} 1/);
  });

  it("when the new revision changes the fingerprint, then it is held (NewGenerationRequired), keeps running for the index's move, and the index keeps serving its generation with the stable encoder", async () => {
    const stable = await deployStable("newfp", true);
    const before = await waitFor("index resolved", async () => {
      const got = await getCustom(cp, NS, "vectorindexes", "newfp-docs");
      return conditionOf(got, "ModelResolved")?.status === "True" ? got : undefined;
    });
    const c = await editRuntime("newfp", 4);
    encoders.setFingerprint("newfp", c.revision, modelFingerprint("newfp-other-weights"));
    await waitFor("candidate Deployment", () =>
      apps.readNamespacedDeployment({ name: `newfp-encoder-${c.revision}`, namespace: NS }),
    );
    await markWorkloadReady(cp, "Deployment", NS, `newfp-encoder-${c.revision}`);
    const held = await waitFor("NewGenerationRequired", async () => {
      const em = await model("newfp");
      return canaryOf(em)?.reason === "NewGenerationRequired" ? em : undefined;
    });
    expect(canaryOf(held)).toMatchObject({ phase: "Paused", weight: 0 });
    expect(held.status?.["fingerprint"]).toBe(modelFingerprint("newfp"));
    expect(conditionOf(held, "Progressing")).toMatchObject({
      status: "False",
      reason: "NewGenerationRequired",
    });
    // The index's move (operator-generation.test.ts) needs the candidate encoder: it keeps its pods.
    const candidate = await apps.readNamespacedDeployment({
      name: `newfp-encoder-${c.revision}`,
      namespace: NS,
    });
    expect(candidate.spec?.replicas).toBe(1);
    // The index starts the candidate's generation beside its own, whose shards stay as they were.
    const next = generationName(modelFingerprint("newfp-other-weights"));
    await waitFor("the candidate generation's StatefulSet", async () => {
      const sets = await apps.listNamespacedStatefulSet({
        namespace: NS,
        labelSelector: "embedops.dev/index=newfp-docs",
      });
      return sets.items.some((s) => s.metadata?.labels?.["embedops.dev/generation"] === next)
        ? true
        : undefined;
    });
    const after = await getCustom(cp, NS, "vectorindexes", "newfp-docs");
    expect(after?.status?.["activeGeneration"]).toBe(generationName(modelFingerprint("newfp")));
    expect(after?.status?.["activeGeneration"]).toBe(before.status?.["activeGeneration"]);
    expect(after?.status?.["fingerprint"]).toBe(modelFingerprint("newfp"));
    // Its shards are not ready here, so N+1 is not in the routers yet: they serve N with the stable.
    expect(await routerEncoder("newfp-docs")).toEqual({
      url: `http://newfp-encoder-${stable}.${NS}.svc:8080`,
      revision: stable,
    });
  });

  it("when the candidate gets no client traffic, then the operator probes it and the rollout still concludes", async () => {
    await deployStable("quiet");
    const c = await editRuntime("quiet", 4);
    encoders.setLatency("quiet", c.revision, "idle");
    const candidate = `quiet-encoder-${c.revision}`;
    await waitFor("candidate Deployment", () =>
      apps.readNamespacedDeployment({ name: candidate, namespace: NS }),
    );
    await markWorkloadReady(cp, "Deployment", NS, candidate);
    const inconclusive = await waitFor("an inconclusive check that starts probes", async () => {
      const got = canaryOf(await model("quiet")) as Canary & { probing?: boolean };
      return got?.probing === true ? got : undefined;
    });
    expect(inconclusive.phase).toBe("Progressing");
    const done = await waitFor(
      "promoted on probe traffic alone",
      async () => {
        const em = await model("quiet");
        return canaryOf(em)?.phase === "Succeeded" ? em : undefined;
      },
      30_000,
    );
    expect(done.status?.["revision"]).toBe(c.revision);
    // policy.probe.requests (default 30) per interval while probing, one text per request.
    expect(encoders.probesOf("quiet", c.revision)).toBeGreaterThanOrEqual(30);
  });

  it("when the operator restarts mid-rollout, then the new one resumes at the same step and promotes", async () => {
    const stable = await deployStable("restart");
    const c = await editRuntime("restart", 4);
    const candidate = `restart-encoder-${c.revision}`;
    await waitFor("candidate Deployment", () =>
      apps.readNamespacedDeployment({ name: candidate, namespace: NS }),
    );
    await markWorkloadReady(cp, "Deployment", NS, candidate);
    await waitFor("the candidate at 10%", async () =>
      canaryOf(await model("restart"))?.weight === 10 ? true : undefined,
    );
    await operator.stop();
    const during = canaryOf(await model("restart"));
    operator = await startOperator(cp, { namespace: NS, encoders, intervalSeconds: INTERVAL_S });
    // No scrape baseline survives: the first due check starts the window again, nothing counted.
    const done = await waitFor(
      "promoted by the new operator",
      async () => {
        const em = await model("restart");
        return canaryOf(em)?.phase === "Succeeded" ? em : undefined;
      },
      30_000,
    );
    expect(during?.revision).toBe(c.revision);
    expect(done.status?.["revision"]).toBe(c.revision);
    await waitFor("the old stable removed", async () =>
      (await deploymentGone(`restart-encoder-${stable}`)) ? true : undefined,
    );
  });

  it("when the abort annotation names the candidate, then it is rolled back at once", async () => {
    const stable = await deployStable("abort");
    // Its pods never become ready here, so it waits in Initializing until the command.
    const c = await editRuntime("abort", 4);
    await waitFor("candidate Deployment", () =>
      apps.readNamespacedDeployment({ name: `abort-encoder-${c.revision}`, namespace: NS }),
    );
    const r = await kubectl(cp, [
      ...["-n", NS, "annotate", "--overwrite", "em", "abort"],
      `embedops.dev/rollout-command=abort:${c.revision}`,
    ]);
    expect(r.code).toBe(0);
    const em = await waitFor("Aborted", async () => {
      const got = await model("abort");
      return canaryOf(got)?.reason === "Aborted" ? got : undefined;
    });
    expect(canaryOf(em)).toMatchObject({ phase: "Failed", weight: 0 });
    expect(em.status?.["revision"]).toBe(stable);
    await waitFor("candidate scaled to 0", async () =>
      (await apps.readNamespacedDeployment({ name: `abort-encoder-${c.revision}`, namespace: NS })).spec
        ?.replicas === 0
        ? true
        : undefined,
    );
  });

  it("when the CLI runs against the cluster mid-rollout, then status shows status.canary and abort only annotates", async () => {
    // An operator whose checks come every 10 s (the CRD's minimum), so the rollout holds its first
    // step while the CLI (a fresh node process each time) reads it and aborts it.
    await operator.stop();
    operator = await startOperator(cp, { namespace: NS, encoders, intervalSeconds: 10 });
    try {
      const stable = await deployStable("cli");
      const c = await editRuntime("cli", 4);
      const candidate = `cli-encoder-${c.revision}`;
      await waitFor("candidate Deployment", () =>
        apps.readNamespacedDeployment({ name: candidate, namespace: NS }),
      );
      await markWorkloadReady(cp, "Deployment", NS, candidate);
      await waitFor("Progressing at 10%", async () => {
        const got = canaryOf(await model("cli"));
        return got?.phase === "Progressing" && got.weight === 10 ? true : undefined;
      });

      // A directory with no .embedops/, and --kubeconfig: the cluster is the target.
      const cwd = mkdtempSync(join(tmpdir(), "embedops-cli-cluster-"));
      const cli = (args: string[]) =>
        execFileAsync(
          process.execPath,
          [CLI, "rollout", ...args, "em/cli", "--kubeconfig", cp.adminKubeconfigPath, "-n", NS],
          { cwd, encoding: "utf8", timeout: 60_000 },
        );
      try {
        const before = await model("cli");
        const status = await cli(["status", "--json"]);
        const view = JSON.parse(status.stdout) as { model: string; stableRevision: string; canary: Canary };
        const after = await model("cli");
        expect(canaryOf(after)?.weight).toBe(canaryOf(before)?.weight);
        expect(view).toMatchObject({ model: "cli", stableRevision: stable });
        expect(view.canary).toMatchObject({
          phase: canaryOf(before)?.phase,
          weight: canaryOf(before)?.weight,
          revision: c.revision,
        });
        expect(view.canary).toMatchObject({ phase: "Progressing", weight: 10 });

        const generation = before?.metadata.generation;
        const spec = JSON.stringify(before?.spec);
        const abort = await cli(["abort"]);
        expect(abort.stdout).toContain(`embedops.dev/rollout-command=abort:${c.revision}:`);
        const annotated = await waitFor("the annotation", async () => {
          const em = (await getCustom(cp, NS, "embeddingmodels", "cli")) as
            | (CustomView & { metadata: { annotations?: Record<string, string> } })
            | undefined;
          return em?.metadata.annotations?.["embedops.dev/rollout-command"] ? em : undefined;
        });
        expect(annotated.metadata.annotations?.["embedops.dev/rollout-command"]).toMatch(
          new RegExp(`^abort:${c.revision}:\\S+$`),
        );
        expect(annotated.metadata.generation).toBe(generation);
        expect(JSON.stringify(annotated.spec)).toBe(spec);

        const em = await waitFor("Aborted", async () => {
          const got = await model("cli");
          return canaryOf(got)?.reason === "Aborted" ? got : undefined;
        });
        expect(canaryOf(em)).toMatchObject({ phase: "Failed", weight: 0, revision: c.revision });
        expect(em.status?.["revision"]).toBe(stable);
        expect(em.metadata.generation).toBe(generation);
        const shown = await cli(["status"]);
        expect(shown.stdout).toMatch(/^em\/cli {2}canary \w{4}…\(0%\) Failed \(Aborted\)/);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    } finally {
      await operator.stop();
      operator = await startOperator(cp, { namespace: NS, encoders, intervalSeconds: INTERVAL_S });
    }
  }, 60_000);

  it("when kubectl get em runs, then CANARY and ROLLOUT show the weight and phase", async () => {
    const r = await kubectl(cp, ["-n", NS, "get", "em", "bad", "good"]);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trim().split("\n");
    expect(header).toMatch(/CANARY\s+ROLLOUT/);
    expect(rows.find((l) => l.startsWith("bad "))).toMatch(/\s0\s+Failed\s/);
    expect(rows.find((l) => l.startsWith("good "))).toMatch(/\s0\s+Succeeded\s/);
  });
});
