// The generated CRDs against a real kube-apiserver, driven the way a user drives it: plain
// `kubectl apply` (client-side, strict field validation by default) with the admin kubeconfig.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { index, model, s3Store } from "../unit/api/fixtures.js";
import { INVALID } from "../unit/api/invalid-cases.js";
import { ensureNamespace } from "./harness/index.js";

const cp = inject("controlPlane");
const root = fileURLToPath(new URL("../..", import.meta.url));
const CRDS = ["embeddingmodels", "vectorindexes", "indexsnapshots"].map((p) => `crd/${p}.embedops.dev`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      "kubectl",
      ["--kubeconfig", cp.adminKubeconfigPath, ...args],
      { cwd: root, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

async function getSpec(ns: string, what: string): Promise<Record<string, unknown>> {
  const obj = JSON.parse(await ok(["-n", ns, "get", what, "-o", "json"])) as {
    spec: Record<string, unknown>;
  };
  return obj.spec;
}

// JSON is YAML too, and unambiguous: a string "yes" stays a string for kubectl's YAML 1.1 parser.
const yamlOf = (obj: unknown) => JSON.stringify(obj);

beforeAll(async () => {
  await ok(["apply", "-f", "crds/"]);
  await ok(["wait", "--for=condition=Established", "--timeout=60s", ...CRDS]);
});

describe("CRDs on a real API server", () => {
  it("when crds/ is applied, then every CRD is Established and NamesAccepted", async () => {
    for (const crd of CRDS) {
      const conditions = JSON.parse(await ok(["get", crd, "-o", "jsonpath={.status.conditions}"])) as {
        type: string;
        status: string;
      }[];
      expect(conditions.filter((c) => c.status === "True").map((c) => c.type)).toEqual(
        expect.arrayContaining(["Established", "NamesAccepted"]),
      );
    }
  });

  it("when crds/ is applied again, then nothing changes", async () => {
    const out = await ok(["apply", "-f", "crds/"]);
    const expected = CRDS.map((c) => `customresourcedefinition.apiextensions.k8s.io/${c.slice(4)} unchanged`);
    expect(out.trim().split("\n").sort()).toEqual(expected.sort());
  });
});

describe("examples", () => {
  const ns = "crds-quickstart";

  beforeAll(async () => {
    await ensureNamespace(cp, ns);
    await ok(["-n", ns, "apply", "-f", "examples/quickstart.yaml"]);
  });

  it("when the quickstart is applied, then the server fills in the schema defaults", async () => {
    const em = await getSpec(ns, "em/minilm");
    expect(em).toMatchObject({
      normalize: true,
      maxSequenceLength: 256,
      queryPrefix: "",
      runtime: {
        replicas: 1,
        threads: 2,
        maxBatchTokens: 16384,
        maxBatchRequests: 32,
        maxConcurrentRequests: 512,
      },
      rollout: {
        analysisIntervalSeconds: 60,
        stepWeights: [10, 50],
        maxFailedChecks: 1,
        slo: { maxP99LatencyMs: 500 },
      },
    });
    const vi = await getSpec(ns, "vi/docs");
    expect(vi).toMatchObject({
      metric: "cosine",
      shards: 2,
      replicas: 1,
      hnsw: { m: 16, efConstruction: 200, efSearch: 64 },
      storage: { size: "10Gi" },
      router: { replicas: 1, timeoutMs: 2000 },
      rollout: { backfill: { maxDocumentsPerSecond: 200 } },
    });
  });

  it("when the quickstart is applied a second time, then nothing changes (no GitOps drift)", async () => {
    const out = await ok(["-n", ns, "apply", "-f", "examples/quickstart.yaml"]);
    expect(out).toContain("embeddingmodel.embedops.dev/minilm unchanged");
    expect(out).toContain("vectorindex.embedops.dev/docs unchanged");
  });

  it("when production.yaml is applied, then all of it is accepted", async () => {
    await ensureNamespace(cp, "crds-production");
    const out = await ok(["-n", "crds-production", "apply", "-f", "examples/production.yaml"]);
    expect(out).toContain("vectorindex.embedops.dev/docs created");
    const vi = await getSpec("crds-production", "vi/docs");
    expect(vi["snapshot"]).toMatchObject({
      retain: 7,
      store: { s3: { bucket: "acme-embedops-snapshots" } },
    });
  });

  it("when resources are listed by short name and category, then kubectl prints the printer columns", async () => {
    const em = await ok(["-n", ns, "get", "em"]);
    expect(em.split("\n")[0]?.split(/\s+/)).toEqual([
      "NAME",
      "READY",
      "PHASE",
      "FINGERPRINT",
      "REPLICAS",
      "CANARY",
      "ROLLOUT",
      "AGE",
    ]);
    const vi = await ok(["-n", ns, "get", "vi"]);
    expect(vi.split("\n")[0]?.split(/\s+/)).toEqual([
      "NAME",
      "READY",
      "PHASE",
      "MODEL",
      "GENERATION",
      "SHARDS",
      "VECTORS",
      "BACKFILL",
      "LAST",
      "SNAPSHOT",
      "AGE",
    ]);
    expect(vi).toMatch(/docs\s+minilm\s+2\s/);
    const all = await ok(["-n", ns, "get", "embedops", "-o", "name"]);
    expect(all.trim().split("\n").sort()).toEqual([
      "embeddingmodel.embedops.dev/minilm",
      "vectorindex.embedops.dev/docs",
    ]);
  });

  it("when status is written through the status subresource, then the columns show it and spec is untouched", async () => {
    const status = {
      status: {
        observedGeneration: 1,
        phase: "Ready",
        fingerprint: "0123456789abcdef".repeat(4),
        fingerprintShort: "0123456789ab",
        readyReplicas: 1,
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "EncoderReady",
            message: "1/1 encoder pods ready",
            lastTransitionTime: "2026-01-02T03:04:05Z",
          },
        ],
      },
    };
    await ok([
      "-n",
      ns,
      "patch",
      "em/minilm",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify(status),
    ]);
    const row = (await ok(["-n", ns, "get", "em/minilm", "--no-headers"])).trim().split(/\s+/);
    expect(row.slice(0, 5)).toEqual(["minilm", "True", "Ready", "0123456789ab", "1"]);
    const waited = await kubectl(["-n", ns, "wait", "--for=condition=Ready", "em/minilm", "--timeout=5s"]);
    expect(waited.code).toBe(0);
  });
});

describe("the API server rejects what the zod schemas reject", () => {
  const ns = "crds-invalid";
  beforeAll(() => ensureNamespace(cp, ns));

  it.each(INVALID)(
    "when $when, then kubectl apply fails naming $path",
    async ({ resource, path, server }) => {
      const r = await kubectl(["-n", ns, "apply", "--dry-run=server", "-f", "-"], yamlOf(resource));
      expect(r.code, r.stdout).not.toBe(0);
      // The server prints the path without array indexes in some messages ("stepWeights[1]" is kept).
      expect(r.stderr).toContain(server ?? path);
    },
  );

  it("when a resource is valid for zod, then the server accepts it too", async () => {
    const full = index({ replicas: 2, writeQuorum: 2, snapshot: { schedule: "@daily", store: s3Store } });
    for (const obj of [model(), full]) {
      const r = await kubectl(["-n", ns, "apply", "--dry-run=server", "-f", "-"], yamlOf(obj));
      expect(r.stderr).toBe("");
    }
  });
});

describe("transition rules", () => {
  const ns = "crds-transitions";

  beforeAll(async () => {
    await ensureNamespace(cp, ns);
    await ok(["-n", ns, "apply", "-f", "-"], yamlOf(index({ shards: 2 })));
  });

  const patch = (spec: Record<string, unknown>) =>
    kubectl(["-n", ns, "patch", "vi/docs", "--type=merge", "-p", JSON.stringify({ spec })]);

  it("when shards change, then the update is refused with the way out", async () => {
    const r = await patch({ shards: 4 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.shards");
    expect(r.stderr).toContain("create a new VectorIndex and restore a snapshot into it");
  });

  it("when the metric changes, then the update is refused", async () => {
    const r = await patch({ metric: "l2" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.metric cannot change");
  });

  it("when a restore is added after creation, then the update is refused", async () => {
    const r = await patch({ restore: { snapshotName: "old" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.restore is read only when the VectorIndex is created");
  });

  it("when a mutable field changes, then the update is accepted and shards stay", async () => {
    const r = await patch({ replicas: 3, hnsw: { efSearch: 128 } });
    expect(r.stderr).toBe("");
    const vi = await getSpec(ns, "vi/docs");
    expect(vi).toMatchObject({ shards: 2, replicas: 3, hnsw: { efSearch: 128, m: 16 } });
  });

  it("when an IndexSnapshot's spec changes, then the update is refused", async () => {
    const snap = { apiVersion: "embedops.dev/v1alpha1", kind: "IndexSnapshot", metadata: { name: "s1" } };
    await ok(["-n", ns, "apply", "-f", "-"], yamlOf({ ...snap, spec: { indexRef: { name: "docs" } } }));
    const r = await kubectl(
      ["-n", ns, "apply", "-f", "-"],
      yamlOf({ ...snap, spec: { indexRef: { name: "other" } } }),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("IndexSnapshot spec is immutable");
  });
});
