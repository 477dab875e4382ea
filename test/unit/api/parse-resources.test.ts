import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatResourceError, parseResources } from "../../../src/api/v1alpha1/index.js";

const example = (name: string) => readFileSync(new URL(`../../../examples/${name}`, import.meta.url), "utf8");

describe("parseResources", () => {
  it("when the quickstart is parsed, then it yields the model and the index with defaults", () => {
    const r = parseResources(example("quickstart.yaml"));
    if (!r.ok) throw new Error(r.errors.map(formatResourceError).join("\n"));
    const [model, index] = r.value.resources;
    expect(model).toMatchObject({ kind: "EmbeddingModel", metadata: { name: "minilm" } });
    expect(model?.kind === "EmbeddingModel" && model.spec.source.path).toBe("models/all-minilm-l6-v2");
    expect(index).toMatchObject({
      kind: "VectorIndex",
      metadata: { name: "docs" },
      spec: {
        modelRef: { name: "minilm" },
        metric: "cosine",
        shards: 2,
        replicas: 1,
        hnsw: { efSearch: 64 },
      },
    });
  });

  it("when production.yaml carries a Secret and a ConfigMap, then they are returned apart if allowed", () => {
    const r = parseResources(example("production.yaml"), { allowOtherKinds: true });
    if (!r.ok) throw new Error(r.errors.map(formatResourceError).join("\n"));
    expect(r.value.resources.map((x) => x.kind)).toEqual(["EmbeddingModel", "VectorIndex"]);
    expect(r.value.others.map((x) => x["kind"])).toEqual(["Secret", "Secret", "Secret", "ConfigMap"]);
  });

  it("when other kinds are not allowed, then each is reported by document number", () => {
    const r = parseResources(example("production.yaml"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.document)).toEqual([0, 1, 2, 3]);
    expect(formatResourceError(r.errors[0]!)).toContain(
      'document 1: Secret "embedops-snapshots-s3": apiVersion: must be',
    );
  });

  it("when the second document is invalid, then the error names document 2, kind, name and field", () => {
    const text = [
      "apiVersion: embedops.dev/v1alpha1",
      "kind: EmbeddingModel",
      "metadata: {name: minilm}",
      "spec: {source: {path: m}, dimension: 384, pooling: mean}",
      "---",
      "apiVersion: embedops.dev/v1alpha1",
      "kind: VectorIndex",
      "metadata: {name: docs}",
      "spec: {modelRef: {name: minilm}, shards: 0}",
      "---",
      "",
    ].join("\n");
    const r = parseResources(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map(formatResourceError)).toEqual([
      'document 2: VectorIndex "docs": spec.shards: must be >= 1, got 0',
    ]);
    expect(r.errors[0]).toMatchObject({
      document: 1,
      kind: "VectorIndex",
      name: "docs",
      path: "spec.shards",
    });
  });

  it("when the YAML itself is broken, then the error gives the document and line", () => {
    const r = parseResources("apiVersion: embedops.dev/v1alpha1\nkind: [unclosed\n");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatResourceError(r.errors[0]!)).toMatch(/^document 1: invalid YAML at line \d+/);
  });

  it("when two documents share a kind and name, then the second is reported as a duplicate", () => {
    const doc =
      "apiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: docs}\nspec: {modelRef: {name: m}}\n";
    const r = parseResources(`${doc}---\n${doc}`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatResourceError(r.errors[0]!)).toBe(
      'document 2: VectorIndex "docs": metadata.name: document 1 already defines this VectorIndex; names must be unique per kind',
    );
  });

  it("when the text has only empty documents, then there are no resources and no errors", () => {
    expect(parseResources("---\n---\n")).toEqual({ ok: true, value: { resources: [], others: [] } });
  });
});

describe("YAML dialect", () => {
  const doc = (extra: string) =>
    `apiVersion: embedops.dev/v1alpha1\nkind: EmbeddingModel\nmetadata: {name: m, creationTimestamp: 2026-01-02T03:04:05Z}\nspec: {source: {path: m}, dimension: 3, pooling: mean${extra}}\n`;

  it("when a boolean is written yes/no as kubectl's YAML 1.1 allows, then it parses as a boolean", () => {
    const r = parseResources(doc(", normalize: no"));
    if (!r.ok) throw new Error(r.errors.map(formatResourceError).join("\n"));
    const m = r.value.resources[0];
    expect(m?.kind === "EmbeddingModel" && m.spec.normalize).toBe(false);
  });

  it("when a timestamp is unquoted, then it stays a string as in kubectl's YAML-to-JSON", () => {
    const r = parseResources(doc(""));
    if (!r.ok) throw new Error(r.errors.map(formatResourceError).join("\n"));
    expect(r.value.resources[0]?.metadata.creationTimestamp).toBe("2026-01-02T03:04:05Z");
  });
});
