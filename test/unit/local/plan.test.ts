import { describe, expect, it } from "vitest";
import { parseResources } from "../../../src/api/v1alpha1/index.js";
import { encoderDeployment } from "../../../src/builders/encoder-deployment.js";
import { encoderRuntimeArgs, encoderSpaceArgs } from "../../../src/core/role-args.js";
import { planLocal } from "../../../src/local/plan.js";
import { ctx } from "../builders/fixtures.js";

const model = `
apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata: { name: minilm }
spec:
  source: { path: models/all-minilm-l6-v2 }
  dimension: 384
  pooling: mean
`;
const index = (extra = "") => `
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata: { name: docs }
spec:
  modelRef: { name: minilm }
  shards: 2
  replicas: 2
${extra}`;

function plan(yaml: string) {
  const parsed = parseResources(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return planLocal(parsed.value.resources, "/work");
}

describe("planLocal", () => {
  it("when a model and an index are declared, then one encoder and shards × replicas are planned", () => {
    const result = plan(`${model}---${index()}`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.models).toHaveLength(1);
    expect(result.plan.models[0]?.modelDir).toBe("/work/models/all-minilm-l6-v2");
    // The revision's flags name its model directory: a candidate with a new source runs the new model.
    expect(result.plan.models[0]?.encoderArgs.slice(0, 2)).toEqual([
      "--model-dir",
      "/work/models/all-minilm-l6-v2",
    ]);
    expect(result.plan.models[0]?.encoderArgs).toEqual(
      expect.arrayContaining(["--threads", "--max-batch-tokens"]),
    );
    // The spec's embedding space, which the encoder checks against the model directory.
    expect(result.plan.models[0]?.encoderArgs).toEqual(
      expect.arrayContaining(["--pooling", "mean", "--max-sequence-length", "256", "--query-prefix="]),
    );
    const [vi] = result.plan.indexes;
    expect(vi?.shards).toEqual(["shard-0", "shard-1"]);
    expect(vi?.replicas).toBe(2);
    expect(vi?.shardArgs).toEqual(expect.arrayContaining(["--dimension", "384", "--metric", "cosine"]));
  });

  it("when the same spec is planned here and built for Kubernetes, then both encoders get the same runtime and space flags", () => {
    const parsed = parseResources(model);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const em = parsed.value.resources[0];
    if (em?.kind !== "EmbeddingModel") throw new Error("expected an EmbeddingModel");
    const result = planLocal([em], "/work");
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const args = encoderDeployment(ctx(), { model: "minilm", spec: em.spec }).spec?.template.spec
      ?.containers[0]?.args;
    const local = result.plan.models[0]?.encoderArgs ?? [];
    // The same run of flags in both, from the first runtime flag on (what comes around it differs:
    // --model-dir, --revision, the address).
    const flags = [...encoderRuntimeArgs(em.spec.runtime), ...encoderSpaceArgs(em.spec)];
    const runIn = (xs: readonly string[]) =>
      xs.slice(xs.indexOf("--threads"), xs.indexOf("--threads") + flags.length);
    expect(runIn(local)).toEqual(flags);
    expect(runIn(args ?? [])).toEqual(flags);
  });

  it("when the index names a model the file does not declare, then the error names modelRef and the known models", () => {
    const result = plan(index().replace("name: minilm", "name: bge") + `---${model}`);
    expect(result).toEqual({
      ok: false,
      errors: [expect.stringMatching(/spec\.modelRef\.name "bge".*have: minilm/)],
    });
  });

  it("when the index's dimension differs from the model's, then the error names both", () => {
    const result = plan(`${model}---${index("  dimension: 768")}`);
    expect(result).toEqual({
      ok: false,
      errors: [expect.stringMatching(/spec\.dimension 768 .* dimension 384/)],
    });
  });

  it("when the model comes from a PVC, then serve explains it needs a local path", () => {
    const result = plan(model.replace("{ path: models/all-minilm-l6-v2 }", "{ pvc: { claimName: models } }"));
    expect(result).toEqual({ ok: false, errors: [expect.stringMatching(/must be a local path/)] });
  });
});

describe("spec.quality under serve", () => {
  const quality = `  quality:
    goldenSet: { configMapRef: { name: golden, key: q.jsonl } }
    k: 5
    minRecall: 0.8
`;
  const configMap = (data: string) => `
apiVersion: v1
kind: ConfigMap
metadata: { name: golden }
data:
${data}`;
  const planWith = (yaml: string) => {
    const parsed = parseResources(yaml, { allowOtherKinds: true });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return planLocal(parsed.value.resources, "/work", parsed.value.others);
  };

  it("when the golden set's ConfigMap is in the file, then the index carries its queries, k and minRecall", () => {
    const r = planWith(
      `${model}---${index(quality)}---${configMap('  q.jsonl: |\n    {"query": "tree", "relevant": ["a"]}\n    {"query": "river"}')}`,
    );
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.plan.indexes[0]?.quality).toEqual({
      golden: [
        { query: "tree", relevant: ["a"] },
        { query: "river", relevant: [] },
      ],
      k: 5,
      minRecall: 0.8,
    });
  });

  it.each([
    ["the ConfigMap is missing", "", /names ConfigMap "golden", which is not in the file/],
    ["the key is missing", `---${configMap("  other: x")}`, /has no data key "q.jsonl"/],
    [
      "a line is not JSON",
      `---${configMap("  q.jsonl: |\n    not json")}`,
      /ConfigMap "golden" key "q.jsonl": /,
    ],
  ])("when %s, then the plan names the problem", (_why, extra, message) => {
    const r = planWith(`${model}---${index(quality)}${extra}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join("\n")).toMatch(message);
  });

  it("when there is no spec.quality, then the index has none (the gate uses the probe texts)", () => {
    const r = planWith(`${model}---${index()}`);
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.plan.indexes[0]?.quality).toBeUndefined();
    expect(r.plan.indexes[0]?.rollout.retainPrevious).toBe("1h");
  });
});
