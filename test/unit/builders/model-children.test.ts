import type {
  V1Deployment,
  V1PodDisruptionBudget,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  encoderDeployment,
  modelRevision,
  REVISION_ANNOTATION,
} from "../../../src/builders/encoder-deployment.js";
import { modelChildren } from "../../../src/builders/model-children.js";
import { encoderRevision, revisionInputOf } from "../../../src/rollout/revision.js";
import { ctx, model } from "./fixtures.js";

const deploymentOf = (m = model()) => encoderDeployment(ctx(), { model: m.metadata.name, spec: m.spec });
const container = (d: V1Deployment) => d.spec?.template.spec?.containers[0];
const argAfter = (d: V1Deployment, flag: string) => {
  const args = container(d)?.args ?? [];
  return args[args.indexOf(flag) + 1];
};

describe("EmbeddingModel children", () => {
  it("when the quickstart model is built, then the children match the snapshot", () => {
    expect(modelChildren(ctx(), "minilm", model().spec)).toMatchSnapshot();
  });

  it("when built twice from the same spec, then the output is identical (no timestamps, no random names)", () => {
    expect(JSON.stringify(modelChildren(ctx(), "minilm", model().spec))).toBe(
      JSON.stringify(modelChildren(ctx(), "minilm", model().spec)),
    );
  });

  it("when built, then every child has the controller owner reference and the standard labels", () => {
    for (const child of modelChildren(ctx(), "minilm", model().spec).present) {
      expect(child.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ controller: true, kind: "EmbeddingModel" }),
      ]);
      expect(child.metadata?.labels).toMatchObject({
        "app.kubernetes.io/name": "embedops",
        "app.kubernetes.io/instance": "minilm",
        "app.kubernetes.io/component": "encoder",
        "app.kubernetes.io/managed-by": "embedops",
        "app.kubernetes.io/part-of": "embedops",
        "embedops.dev/model": "minilm",
        "embedops.dev/role": "encoder",
      });
    }
  });

  it.each([
    ["threads", { threads: 4 }, "--threads", "4"],
    ["maxBatchTokens", { maxBatchTokens: 8192 }, "--max-batch-tokens", "8192"],
    ["maxBatchRequests", { maxBatchRequests: 8 }, "--max-batch-requests", "8"],
    ["maxConcurrentRequests", { maxConcurrentRequests: 64 }, "--max-concurrent-requests", "64"],
  ])("when runtime.%s is set, then the encoder gets %s", (_f, runtime, flag, value) => {
    expect(argAfter(deploymentOf(model({ runtime })), flag)).toBe(value);
  });

  it.each([
    ["dimension", { dimension: 768 }, "--dimension", "768"],
    ["pooling", { pooling: "cls" as const }, "--pooling", "cls"],
    ["normalize", { normalize: false }, "--normalize", "false"],
    ["maxSequenceLength", { maxSequenceLength: 128 }, "--max-sequence-length", "128"],
  ])(
    "when spec.%s is set, then the encoder gets %s (it checks the model directory against it)",
    (_f, spec, flag, value) => {
      expect(argAfter(deploymentOf(model(spec)), flag)).toBe(value);
    },
  );

  it("when the spec has prefixes, then the encoder gets them as --flag=value, the empty default too", () => {
    const args = (m = model()) => container(deploymentOf(m))?.args ?? [];
    expect(args()).toEqual(expect.arrayContaining(["--query-prefix=", "--document-prefix="]));
    expect(args(model({ queryPrefix: "query: ", documentPrefix: "-p " }))).toEqual(
      expect.arrayContaining(["--query-prefix=query: ", "--document-prefix=-p "]),
    );
  });

  it("when a prefix holds $, then it is escaped as $$ so the kubelet's $(VAR) expansion gives back the spec's value", () => {
    const args = container(deploymentOf(model({ queryPrefix: "price in $(CURRENCY), $$ or $: " })))?.args;
    expect(args).toContain("--query-prefix=price in $$(CURRENCY), $$$$ or $$: ");
  });

  it("when the space flags are added to the encoder, then the revision stays the one of the revision input (no rollout on upgrade)", () => {
    const d = deploymentOf();
    expect(argAfter(d, "--revision")).toBe(encoderRevision(revisionInputOf(model().spec, ctx().image)));
    expect(revisionInputOf(model().spec, ctx().image).args).not.toContain("--pooling");
  });

  it("when a runtime field changes, then the revision annotation changes; when nothing changes, it stays", () => {
    const rev = (d: V1Deployment) => d.spec?.template.metadata?.annotations?.[REVISION_ANNOTATION];
    const base = rev(deploymentOf());
    expect(base).toMatch(/^[0-9a-f]{10}$/);
    expect(rev(deploymentOf())).toBe(base);
    expect(rev(deploymentOf(model({ runtime: { threads: 7 } })))).not.toBe(base);
  });

  it("when the source is a PVC, then it is mounted read-only and the model dir is inside it", () => {
    const d = deploymentOf(model({ source: { pvc: { claimName: "models", path: "minilm" } } }));
    expect(d.spec?.template.spec?.volumes).toContainEqual({
      name: "model",
      persistentVolumeClaim: { claimName: "models", readOnly: true },
    });
    expect(container(d)?.volumeMounts).toContainEqual({
      name: "model",
      mountPath: "/models",
      readOnly: true,
    });
    expect(argAfter(d, "--model-dir")).toBe("/models/minilm");
    expect(d.spec?.template.spec?.initContainers).toBeUndefined();
  });

  it("when the source is http, then an init container fetches and verifies the archive into an emptyDir", () => {
    const sha = "a".repeat(64);
    const d = deploymentOf(model({ source: { http: { url: "http://models.svc/m.tar.gz", sha256: sha } } }));
    const init = d.spec?.template.spec?.initContainers?.[0];
    expect(init?.args).toEqual([
      "fetch-model",
      "--url",
      "http://models.svc/m.tar.gz",
      "--archive-sha256",
      sha,
      "--model-dir",
      "/models",
    ]);
    expect(init?.image).toBe(container(d)?.image);
    expect(d.spec?.template.spec?.volumes).toContainEqual({ name: "model", emptyDir: {} });
  });

  it("when a path source pins source.sha256, then an init container verifies model.onnx before the encoder", () => {
    const sha = "b".repeat(64);
    const init = deploymentOf(model({ source: { path: "/m", sha256: sha } })).spec?.template.spec
      ?.initContainers?.[0];
    expect(init?.args).toEqual(["fetch-model", "--model-dir", "/m", "--onnx-sha256", sha]);
  });

  it("when authSecretRef is set, then the key is mounted as a file and passed as --api-key-file", () => {
    const d = deploymentOf(model({ authSecretRef: { name: "auth", key: "token" } }));
    expect(d.spec?.template.spec?.volumes).toContainEqual({
      name: "auth",
      secret: { secretName: "auth", items: [{ key: "token", path: "api-keys" }], defaultMode: 0o440 },
    });
    expect(argAfter(d, "--api-key-file")).toBe("/etc/embedops/auth/api-keys");
  });

  it("when built, then the pod runs non-root with a read-only root filesystem and both probes", () => {
    const d = deploymentOf();
    expect(d.spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);
    expect(container(d)?.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(container(d)?.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(container(d)?.livenessProbe?.httpGet?.path).toBe("/healthz");
  });

  it("when resources are set, then quantities become strings on the container", () => {
    const d = deploymentOf(model({ runtime: { resources: { requests: { cpu: 2, memory: "1Gi" } } } }));
    expect(container(d)?.resources).toEqual({ requests: { cpu: "2", memory: "1Gi" } });
  });

  it("when autoscaling is set, then an HPA targets the Deployment and the Deployment leaves replicas to it", () => {
    const m = model({ runtime: { replicas: 3, autoscaling: { minReplicas: 2, maxReplicas: 5 } } });
    const children = modelChildren(ctx(), "minilm", m.spec);
    const rev = modelRevision(m.spec, ctx().image);
    const hpa = children.present.find(
      (c) => c.kind === "HorizontalPodAutoscaler",
    ) as V2HorizontalPodAutoscaler;
    expect(hpa.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      scaleTargetRef: { kind: "Deployment", name: `minilm-encoder-${rev}` },
    });
    expect(hpa.spec?.metrics?.[0]?.resource?.target.averageUtilization).toBe(70);
    const d = children.present.find((c) => c.kind === "Deployment") as V1Deployment;
    expect(d.spec?.replicas).toBeUndefined();
    expect(children.absent).toEqual([]);
  });

  it("when autoscaling is not set, then no HPA is desired and any old one is listed for removal", () => {
    const children = modelChildren(ctx(), "minilm", model({ runtime: { replicas: 3 } }).spec);
    expect(children.present.map((c) => c.kind)).not.toContain("HorizontalPodAutoscaler");
    expect(children.absent).toEqual([
      { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name: "minilm-encoder" },
    ]);
    const d = children.present.find((c) => c.kind === "Deployment") as V1Deployment;
    expect(d.spec?.replicas).toBe(3);
  });

  it.each([1, 3])(
    "when replicas is %i, then the PDB allows one voluntary disruption at a time",
    (replicas) => {
      const children = modelChildren(ctx(), "minilm", model({ runtime: { replicas } }).spec);
      const pdb = children.present.find((c) => c.kind === "PodDisruptionBudget") as V1PodDisruptionBudget;
      expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: expect.any(Object) } });
    },
  );

  it("when the owner has a part-of label, then children carry it but selectors do not", () => {
    const c = { ...ctx(), ownerLabels: { "app.kubernetes.io/part-of": "search" } };
    const d = encoderDeployment(c, { model: "minilm", spec: model().spec });
    expect(d.metadata?.labels?.["app.kubernetes.io/part-of"]).toBe("search");
    expect(d.spec?.selector.matchLabels?.["app.kubernetes.io/part-of"]).toBeUndefined();
  });

  describe("revisions side by side", () => {
    const stable = "aaaaaaaaaa";
    const spec = model({ runtime: { replicas: 3, threads: 2 } }).spec;
    const rev = modelRevision(spec, ctx().image);
    const named = (children: { present: { kind?: string; metadata?: { name?: string } }[] }, kind: string) =>
      children.present.filter((c) => c.kind === kind).map((c) => c.metadata?.name);

    it("when the revision is computed, then it is the rollout core's (the same as embedops serve)", () => {
      expect(rev).toBe(encoderRevision(revisionInputOf(spec, ctx().image)));
      const d = deploymentOf(model({ runtime: { replicas: 3, threads: 2 } }));
      expect(d.metadata?.name).toBe(`minilm-encoder-${rev}`);
      expect(d.spec?.template.metadata?.annotations?.[REVISION_ANNOTATION]).toBe(rev);
      expect(d.spec?.template.metadata?.labels?.["embedops.dev/revision"]).toBe(rev);
      expect(d.spec?.selector.matchLabels?.["embedops.dev/revision"]).toBe(rev);
      expect(argAfter(d, "--revision")).toBe(rev);
    });

    it("when only replicas or the rollout policy change, then the revision stays", () => {
      const other = model({ runtime: { replicas: 7, threads: 2 }, rollout: { stepWeights: [5] } }).spec;
      expect(modelRevision(other, ctx().image)).toBe(rev);
    });

    it.each([
      ["a first deploy", undefined, [`minilm-encoder-${rev}`], [rev]],
      [
        "a candidate beside the stable",
        { stableRevision: stable, stableReplicas: 3, candidateRevision: rev, candidateReplicas: 3 },
        [rev],
        [stable, rev],
      ],
      [
        "a failed candidate (scaled to 0)",
        { stableRevision: stable, stableReplicas: 3, candidateRevision: rev, candidateReplicas: 0 },
        [rev],
        [stable, rev],
      ],
      [
        "a promoted candidate",
        { stableRevision: rev, stableReplicas: 3, candidateReplicas: 0 },
        [rev],
        [rev],
      ],
    ])(
      "when %s, then a Deployment per rendered revision and a Service per running revision",
      (_c, r, deps, svcs) => {
        const children = modelChildren(ctx(), "minilm", spec, r);
        expect(named(children, "Deployment")).toEqual(
          deps.map((x) => (x.startsWith("minilm") ? x : `minilm-encoder-${x}`)),
        );
        expect(named(children, "Service")).toEqual([
          "minilm-encoder",
          ...svcs.map((x) => `minilm-encoder-${x}`),
        ]);
      },
    );

    it("when a candidate runs, then it gets its own replica count; the older stable's Deployment is not re-rendered", () => {
      const children = modelChildren(ctx(), "minilm", spec, {
        stableRevision: stable,
        stableReplicas: 3,
        candidateRevision: rev,
        candidateReplicas: 0,
      });
      const d = children.present.find((c) => c.kind === "Deployment") as V1Deployment;
      expect(d.metadata?.name).toBe(`minilm-encoder-${rev}`);
      expect(d.spec?.replicas).toBe(0);
    });

    it("when built, then the main Service selects every revision and each revision Service only its own", () => {
      const children = modelChildren(ctx(), "minilm", spec, {
        stableRevision: stable,
        stableReplicas: 3,
        candidateRevision: rev,
        candidateReplicas: 3,
      });
      const services = children.present.filter((c) => c.kind === "Service") as V1Service[];
      expect(services[0]?.spec?.selector?.["embedops.dev/revision"]).toBeUndefined();
      expect(services[1]?.spec?.selector?.["embedops.dev/revision"]).toBe(stable);
      expect(services[2]?.spec?.selector?.["embedops.dev/revision"]).toBe(rev);
    });
  });
});
