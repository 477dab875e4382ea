import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { indexesNamingModel } from "../../../controllers/vector-index/model-watch.js";

const obj = (namespace: string | undefined, name: string, spec?: unknown): KubernetesObject =>
  ({ metadata: { namespace, name }, ...(spec === undefined ? {} : { spec }) }) as KubernetesObject;
const vi = (namespace: string, name: string, model: unknown) =>
  obj(namespace, name, { modelRef: { name: model } });

describe("indexesNamingModel", () => {
  const indexes = [
    vi("search", "docs", "minilm"),
    vi("search", "faq", "minilm"),
    vi("search", "code", "bge"),
    vi("other", "docs", "minilm"),
    obj("search", "broken", { modelRef: {} }),
    obj("search", "no-spec"),
  ];

  it.each([
    ["two indexes in its namespace name the model", obj("search", "minilm"), ["search/docs", "search/faq"]],
    ["an index in another namespace names a model of the same name", obj("other", "minilm"), ["other/docs"]],
    ["no index names the model", obj("search", "e5"), []],
    ["the model has no name (not from the API server)", obj("search", ""), []],
    ["the model is cluster-scoped by mistake (no namespace)", obj(undefined, "minilm"), []],
  ])("when %s, then the keys are %j", (_case, model, keys) => {
    expect(indexesNamingModel(model, indexes)).toEqual(keys);
  });

  it("when the cache lists the indexes in another order, then the keys come out sorted", () => {
    expect(indexesNamingModel(obj("search", "minilm"), [...indexes].reverse())).toEqual([
      "search/docs",
      "search/faq",
    ]);
  });
});
