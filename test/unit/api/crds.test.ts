import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isObject, type Json, type JsonObject } from "../../../src/api/crd/json.js";
import { renderCrds } from "../../../src/api/crd/render.js";
import { toStructural } from "../../../src/api/crd/structural.js";

const rendered = renderCrds();
const crd = (plural: string): JsonObject => {
  const r = rendered.find((x) => x.fileName.startsWith(`${plural}.`));
  if (!r) throw new Error(`no CRD for ${plural}`);
  return parse(r.yaml) as JsonObject;
};
const schemaOf = (plural: string) => JSON.stringify(crd(plural));

// Independent of the generator's own checks: what the API server requires of a structural schema.
function structuralProblems(node: Json, path: string, out: string[] = []): string[] {
  if (!isObject(node)) return out;
  const intOrString = node["x-kubernetes-int-or-string"] === true;
  if (!intOrString && typeof node["type"] !== "string") out.push(`${path}: no type`);
  for (const j of ["oneOf", "allOf", "not"]) if (j in node) out.push(`${path}: ${j}`);
  if ("anyOf" in node && !intOrString) out.push(`${path}: anyOf`);
  if (isObject(node["properties"]) && "additionalProperties" in node)
    out.push(`${path}: properties + additionalProperties`);
  if (isObject(node["properties"])) {
    for (const [k, v] of Object.entries(node["properties"])) structuralProblems(v, `${path}.${k}`, out);
  }
  if (isObject(node["additionalProperties"]))
    structuralProblems(node["additionalProperties"], `${path}.*`, out);
  if (isObject(node["items"])) structuralProblems(node["items"], `${path}[]`, out);
  return out;
}

const version = (c: JsonObject): JsonObject => {
  const versions = (c["spec"] as JsonObject)["versions"] as JsonObject[];
  if (versions.length !== 1 || !versions[0]) throw new Error("expected exactly one version");
  return versions[0];
};
const openApi = (c: JsonObject): Json => (version(c)["schema"] as JsonObject)["openAPIV3Schema"] as Json;

describe("generated CRDs", () => {
  it("when rendered twice, then the output is byte-identical", () => {
    expect(renderCrds()).toEqual(rendered);
  });

  it("when rendered, then there is one CRD per kind with names, short names and categories", () => {
    expect(rendered.map((r) => r.fileName)).toEqual([
      "embeddingmodels.embedops.dev.yaml",
      "vectorindexes.embedops.dev.yaml",
      "indexsnapshots.embedops.dev.yaml",
    ]);
    expect((crd("vectorindexes")["spec"] as JsonObject)["names"]).toMatchObject({
      kind: "VectorIndex",
      shortNames: ["vi"],
      categories: ["embedops"],
    });
    expect(schemaOf("embeddingmodels")).toContain('"shortNames":["em"]');
    expect(schemaOf("indexsnapshots")).toContain('"shortNames":["isnap"]');
  });

  it.each(rendered.map((r) => [r.fileName, r.yaml] as const))(
    "when %s is rendered, then it stays under 100 KiB for client-side kubectl apply",
    (_name, yaml) => {
      expect(Buffer.byteLength(yaml)).toBeLessThan(100 * 1024);
    },
  );

  it.each(["embeddingmodels", "vectorindexes", "indexsnapshots"])(
    "when the %s schema is walked, then it is structural",
    (plural) => {
      expect(structuralProblems(openApi(crd(plural)), "")).toEqual([]);
      expect(schemaOf(plural)).toContain('"subresources":{"status":{}}');
    },
  );

  it("when a schema has a type union, then the structural pass refuses it naming the path", () => {
    const union = { type: "object", properties: { a: { anyOf: [{ type: "string" }, { type: "number" }] } } };
    expect(() => toStructural(union)).toThrow(/\.a: "anyOf" is not structural/);
  });

  it("when strict objects are rendered, then additionalProperties: false is removed", () => {
    expect(schemaOf("vectorindexes")).not.toContain('"additionalProperties":false');
  });

  it.each([
    ["vectorindexes", "self == oldSelf", "spec.shards cannot change in place"],
    ["vectorindexes", "self == oldSelf", "spec.metric cannot change"],
    ["vectorindexes", "!has(self.schedule) || self.retain >= 1", "snapshot.retain must be >= 1"],
    ["vectorindexes", "has(self.pvc) != has(self.s3)", "exactly one of pvc or s3"],
    ["vectorindexes", "self.writeQuorum <= self.replicas", "writeQuorum must be <= spec.replicas"],
    ["vectorindexes", "has(oldSelf.restore)", "spec.restore is read only"],
    ["vectorindexes", "self.metadata.name.size() <= 40", "metadata.name must be at most 40"],
    ["embeddingmodels", "(has(self.path) ? 1 : 0)", "exactly one of path, pvc or http"],
    [
      "embeddingmodels",
      "self.minReplicas <= self.maxReplicas",
      "minReplicas must be <= autoscaling.maxReplicas",
    ],
    ["embeddingmodels", "self[0] < self[1]", "stepWeights must be strictly increasing"],
    ["indexsnapshots", "self == oldSelf", "IndexSnapshot spec is immutable"],
  ])("when %s is rendered, then it carries the CEL rule %s", (plural, rule, message) => {
    const rules = JSON.stringify(findRules(openApi(crd(plural))));
    expect(rules).toContain(JSON.stringify(rule).slice(1, -1));
    expect(rules).toContain(message);
  });

  it("when the VectorIndex CRD is rendered, then it has the agreed printer columns", () => {
    const all = version(crd("vectorindexes"))["additionalPrinterColumns"] as JsonObject[];
    const columns = all.filter((c) => !c["priority"]);
    expect(columns.map((c) => c["name"])).toEqual([
      "Ready",
      "Phase",
      "Model",
      "Generation",
      "Shards",
      "Vectors",
      "Backfill",
      "Last Snapshot",
      "Age",
    ]);
  });

  it("when the EmbeddingModel CRD is rendered, then defaults reach the server schema", () => {
    const spec = (openApi(crd("embeddingmodels")) as JsonObject)["properties"] as JsonObject;
    const props = (spec["spec"] as JsonObject)["properties"] as JsonObject;
    expect((props["normalize"] as JsonObject)["default"]).toBe(true);
    expect((props["runtime"] as JsonObject)["default"]).toEqual({});
  });

  it.each(["crds", "charts/embedops/crds"])(
    "when %s/ is compared with the generator, then nothing drifted",
    (dir) => {
      for (const { fileName, yaml } of rendered) {
        const committed = readFileSync(new URL(`../../../${dir}/${fileName}`, import.meta.url), "utf8");
        expect(committed, `${dir}/${fileName} drifted: run npm run gen:crds`).toBe(yaml);
      }
    },
  );
});

function findRules(node: Json, out: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const n of node) findRules(n, out);
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === "x-kubernetes-validations" && Array.isArray(v)) out.push(...v);
      else findRules(v, out);
    }
  }
  return out;
}
