// The EmbeddingModel -> VectorIndex watch: with the resync switched off and no poll, only a model
// event can make a waiting index act. Each waitFor below would time out without that watch.
import { createHash } from "node:crypto";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { FingerprintProbe } from "../../controllers/embedding-model/fingerprint-probe.js";
import { generationName } from "../../src/core/generation.js";
import { adminKubeConfig } from "./harness/index.js";
import {
  conditionOf,
  encoderDeploymentName,
  examplePath,
  getCustom,
  kubectl,
  markWorkloadReady,
  type RunningOperator,
  setUpCluster,
  startOperator,
  waitFor,
} from "./operator-harness.js";

const cp = inject("controlPlane");
const NS = "op-model-watch";
const kc = adminKubeConfig(cp);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
let operator: RunningOperator;

/** What the encoder reports; the test swaps the weights by changing it. */
let weights = "v1";
const fingerprintOf = (w: string) => createHash("sha256").update(`weights:${w}`).digest("hex");
const probe: FingerprintProbe = async () => ({ fingerprint: fingerprintOf(weights), dimension: 384 });

beforeAll(async () => {
  await setUpCluster(cp, NS);
  // resyncPeriodMs 0: no periodic re-queue, so nothing but events reconciles.
  operator = await startOperator(cp, { namespace: NS, resyncPeriodMs: 0, probe });
});

afterAll(async () => {
  await operator?.stop();
});

describe("operator: an index follows its model's events", () => {
  it("when the model gets its fingerprint, then the waiting index resolves it and builds its generation", async () => {
    expect((await kubectl(cp, ["-n", NS, "apply", "-f", examplePath("quickstart.yaml")])).code).toBe(0);
    await waitFor("index waiting for the fingerprint", async () => {
      const vi = await getCustom(cp, NS, "vectorindexes", "docs");
      return conditionOf(vi, "ModelResolved")?.reason === "WaitingForFingerprint" || undefined;
    });
    await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, "minilm"));

    const vi = await waitFor("index ModelResolved", async () => {
      const obj = await getCustom(cp, NS, "vectorindexes", "docs");
      return conditionOf(obj, "ModelResolved")?.status === "True" ? obj : undefined;
    });
    expect(vi.status?.["fingerprint"]).toBe(fingerprintOf("v1"));
    const generation = generationName(fingerprintOf("v1"));
    await waitFor("StatefulSet of the first generation", () =>
      apps.readNamespacedStatefulSet({ name: `docs-${generation}-shard-0`, namespace: NS }),
    );
  });

  // The same revision's pods now serve other weights (a source that changed behind the same spec):
  // the STABLE encoder reports the new fingerprint, so the index follows it. A spec change that
  // alters the fingerprint is a candidate instead, held before it serves (operator-rollout.test.ts).
  it("when the stable encoder's fingerprint changes, then the index starts moving to the new generation without a resync", async () => {
    weights = "v2";
    // Any event on the model makes its reconcile ask the encoder again; an annotation is the least.
    const r = await kubectl(cp, ["-n", NS, "annotate", "em", "minilm", "test/weights=v2"]);
    expect(r.code).toBe(0);
    await waitFor("model reports the new fingerprint", async () => {
      const em = await getCustom(cp, NS, "embeddingmodels", "minilm");
      return em?.status?.["fingerprint"] === fingerprintOf("v2") || undefined;
    });
    const generation = generationName(fingerprintOf("v2"));
    await waitFor("StatefulSet of the new generation", () =>
      apps.readNamespacedStatefulSet({ name: `docs-${generation}-shard-0`, namespace: NS }),
    );
    // A move, not a swap (operator-generation.test.ts): the routers keep the generation with the data
    // until the new one is filled and promoted.
    const vi = await waitFor("the move to the new generation", async () => {
      const got = await getCustom(cp, NS, "vectorindexes", "docs");
      const rollout = got?.status?.["rollout"] as { candidateGeneration?: string } | undefined;
      return rollout?.candidateGeneration === generation ? got : undefined;
    });
    expect(vi.status?.["rollout"]).toMatchObject({
      phase: "Building",
      fromGeneration: generationName(fingerprintOf("v1")),
    });
    const cm = await core.readNamespacedConfigMap({ name: "docs-router", namespace: NS });
    expect(JSON.parse(cm.data?.["router.json"] ?? "{}").generation).toBe(generationName(fingerprintOf("v1")));
  });

  it("when the model is deleted, then the index reports ModelNotFound", async () => {
    expect((await kubectl(cp, ["-n", NS, "delete", "em", "minilm", "--wait=false"])).code).toBe(0);
    const vi = await waitFor("index ModelNotFound", async () => {
      const obj = await getCustom(cp, NS, "vectorindexes", "docs");
      return conditionOf(obj, "ModelResolved")?.reason === "ModelNotFound" ? obj : undefined;
    });
    expect(conditionOf(vi, "Ready")?.status).toBe("False");
  });
});
