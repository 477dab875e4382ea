// examples/production.yaml against the real API server: an http model source (init container that
// fetches and verifies), auth Secrets mounted as key files (encoder and router), and an autoscaler
// that is removed again when the spec drops autoscaling. No kubelet runs: the test marks the
// encoder rolled out as the Deployment controller would.
import { AppsV1Api, AutoscalingV2Api, CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { adminKubeConfig } from "./harness/index.js";
import {
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
const NS = "op-production";
const kc = adminKubeConfig(cp);
const apps = kc.makeApiClient(AppsV1Api);
const autoscaling = kc.makeApiClient(AutoscalingV2Api);
const core = kc.makeApiClient(CoreV1Api);
let operator: RunningOperator;

beforeAll(async () => {
  await setUpCluster(cp, NS);
  operator = await startOperator(cp, { namespace: NS });
});

afterAll(async () => {
  await operator?.stop();
});

describe("operator: the production example", () => {
  it("when examples/production.yaml is applied, then the encoder fetches and verifies the model and reads its key from the Secret", async () => {
    const applied = await kubectl(cp, ["-n", NS, "apply", "-f", examplePath("production.yaml")]);
    expect(applied.code).toBe(0);
    const d = await apps.readNamespacedDeployment({
      name: await encoderDeploymentName(cp, NS, "bge-small"),
      namespace: NS,
    });
    const pod = d.spec?.template.spec;
    expect(pod?.initContainers?.[0]?.args?.slice(0, 5)).toEqual([
      "fetch-model",
      "--url",
      "https://models.internal.example.com/bge-small-en-v1.5-onnx.tar.gz",
      "--archive-sha256",
      "3f0a1c9e5b7d2e4f6a8b0c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f",
    ]);
    expect(pod?.volumes?.find((v) => v.name === "auth")?.secret).toMatchObject({
      secretName: "embedops-encoder-auth",
      items: [{ key: "token", path: "api-keys" }],
    });
    expect(pod?.containers[0]?.args).toEqual(
      expect.arrayContaining(["--api-key-file", "/etc/embedops/auth/api-keys"]),
    );
    expect(pod?.containers[0]?.resources?.requests).toEqual({ cpu: "4", memory: "2Gi" });
    expect(d.metadata?.labels?.["app.kubernetes.io/part-of"]).toBe("search");
  });

  it("when the model is resolved, then the router reads the index's own key Secret and sends the model's key to the encoder", async () => {
    await markWorkloadReady(cp, "Deployment", NS, await encoderDeploymentName(cp, NS, "bge-small"));
    const d = await waitFor("router Deployment", () =>
      apps.readNamespacedDeployment({ name: "docs-router", namespace: NS }),
    );
    const pod = d.spec?.template.spec;
    const args = pod?.containers[0]?.args ?? [];
    expect(args[args.indexOf("--api-key-file") + 1]).toBe("/etc/embedops/auth/api-keys");
    expect(args[args.indexOf("--encoder-key-file") + 1]).toBe("/etc/embedops/encoder-auth/encoder-key");
    expect(pod?.volumes?.find((v) => v.name === "auth")?.secret).toMatchObject({
      secretName: "search-api-keys",
      items: [{ key: "keys", path: "api-keys" }],
    });
    expect(pod?.volumes?.find((v) => v.name === "encoder-auth")?.secret).toMatchObject({
      secretName: "embedops-encoder-auth",
      items: [{ key: "token", path: "encoder-key" }],
    });
    // The user brought the Secret: the operator makes none of its own.
    const secrets = await core.listNamespacedSecret({ namespace: NS });
    expect(secrets.items.map((s) => s.metadata?.name).sort()).toEqual([
      "embedops-encoder-auth",
      "embedops-snapshots-s3",
      "search-api-keys",
    ]);
  });

  it("when autoscaling is set, then an HPA owned by the model targets the encoder", async () => {
    const model = await getCustom(cp, NS, "embeddingmodels", "bge-small");
    const hpa = await waitFor("HPA", () =>
      autoscaling.readNamespacedHorizontalPodAutoscaler({ name: "bge-small-encoder", namespace: NS }),
    );
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 10,
      // The stable revision's Deployment: a candidate runs a fixed count beside it.
      scaleTargetRef: { kind: "Deployment", name: await encoderDeploymentName(cp, NS, "bge-small") },
    });
    expect(hpa.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "EmbeddingModel",
      uid: model?.metadata.uid,
      controller: true,
    });
  });

  it("when autoscaling is removed from the spec, then the operator deletes its HPA and sets the replicas itself", async () => {
    const r = await kubectl(cp, [
      "-n",
      NS,
      "patch",
      "em",
      "bge-small",
      "--type",
      "json",
      "-p",
      '[{"op":"remove","path":"/spec/runtime/autoscaling"}]',
    ]);
    expect(r.code).toBe(0);
    await waitFor("HPA gone", async () => {
      const list = await autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: NS });
      return list.items.length === 0 ? true : undefined;
    });
    const d = await waitFor("the operator sets the replicas", async () => {
      const got = await apps.readNamespacedDeployment({
        name: await encoderDeploymentName(cp, NS, "bge-small"),
        namespace: NS,
      });
      return got.spec?.replicas === 1 ? got : undefined;
    });
    expect(d.spec?.replicas).toBe(1);
  });
});
