// What serve applies live on a reload and how a revision's encoder flags find its model directory.
import { describe, expect, it } from "vitest";
import { parseResources } from "../../../src/api/v1alpha1/parse.js";
import { unappliedChanges, withModelDir } from "../../../src/cli/serve.js";
import { type LocalPlan, planLocal } from "../../../src/local/plan.js";

const file = (path: string, dimension = 384, threads = 2) => `apiVersion: embedops.dev/v1alpha1
kind: EmbeddingModel
metadata: {name: minilm}
spec:
  source: {path: ${path}}
  dimension: ${dimension}
  pooling: mean
  runtime: {threads: ${threads}}
---
apiVersion: embedops.dev/v1alpha1
kind: VectorIndex
metadata: {name: docs}
spec:
  modelRef: {name: minilm}
`;

function plan(yaml: string): LocalPlan {
  const parsed = parseResources(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const planned = planLocal(parsed.value.resources, "/work");
  if (!planned.ok) throw new Error(planned.errors.join("\n"));
  return planned.plan;
}

describe("unappliedChanges", () => {
  const before = plan(file("models/all-minilm-l6-v2"));

  it("when only the model's source changes, then it is applied live: a new revision with the new directory", () => {
    const after = plan(file("models/all-minilm-l6-v2-cls"));
    expect(unappliedChanges(before, after)).toEqual([]);
    expect(after.models[0]?.revision).not.toBe(before.models[0]?.revision);
    expect(after.models[0]?.encoderArgs.slice(0, 2)).toEqual([
      "--model-dir",
      "/work/models/all-minilm-l6-v2-cls",
    ]);
  });

  it("when the runtime changes, then it is applied live", () => {
    expect(unappliedChanges(before, plan(file("models/all-minilm-l6-v2", 384, 4)))).toEqual([]);
  });

  it("when the dimension changes, then serve says it needs a restart", () => {
    expect(unappliedChanges(before, plan(file("models/all-minilm-l6-v2", 768)))).toEqual([
      'EmbeddingModel "minilm": dimension (a new index generation)',
      // The index takes its dimension from the model, so its plan changes too.
      "VectorIndex changes",
    ]);
  });
});

describe("withModelDir", () => {
  it("when a revision's flags name a model directory, then they are used as they are", () => {
    expect(withModelDir(["--model-dir", "/a", "--threads", "2"], "/b")).toEqual([
      "--model-dir",
      "/a",
      "--threads",
      "2",
    ]);
  });

  it("when a rollout file from before names none, then the model's current directory is put first", () => {
    expect(withModelDir(["--threads", "2"], "/b")).toEqual(["--model-dir", "/b", "--threads", "2"]);
  });
});
