// Post-processes zod's OpenAPI 3.0 output into a structural schema, the subset the API server accepts
// for CRDs (every node typed, no type unions, no additionalProperties next to properties).
import { INT_OR_STRING } from "../v1alpha1/kube-extensions.js";
import { isObject, type Json, type JsonObject } from "./json.js";

/** Long descriptions bloat the last-applied annotation that client-side `kubectl apply` writes. */
export const MAX_DESCRIPTION = 200;

const JUNCTORS = ["anyOf", "oneOf", "allOf", "not"] as const;
const UNSUPPORTED = ["$ref", "$defs", "definitions", "patternProperties", "const", "id", "$id"] as const;

export class StructuralSchemaError extends Error {
  constructor(path: string, problem: string) {
    super(`${path || "(root)"}: ${problem}; change the zod schema in src/api/v1alpha1`);
    this.name = "StructuralSchemaError";
  }
}

function intOrString(node: JsonObject): JsonObject {
  const branches = Array.isArray(node["anyOf"]) ? node["anyOf"].filter(isObject) : [];
  const pattern = branches.find((b) => b["type"] === "string")?.["pattern"];
  const out: JsonObject = {};
  for (const key of ["default", "description"] as const) {
    if (node[key] !== undefined) out[key] = node[key];
  }
  // The same shape Kubernetes publishes for resource.Quantity and IntOrString.
  out["anyOf"] = [{ type: "integer" }, { type: "string" }];
  if (typeof pattern === "string") out["pattern"] = pattern;
  out[INT_OR_STRING] = true;
  if (node["x-kubernetes-validations"] !== undefined) {
    out["x-kubernetes-validations"] = node["x-kubernetes-validations"];
  }
  return out;
}

function walk(node: JsonObject, path: string): JsonObject {
  if (node[INT_OR_STRING] === true) return intOrString(node);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "$schema") continue;
    if (key === "additionalProperties" && value === false) continue; // unknown fields: pruning + strict validation
    if ((key === "minimum" || key === "maximum") && Math.abs(Number(value)) === Number.MAX_SAFE_INTEGER)
      continue;
    if (key === "pattern" && node["format"] === "date-time") continue; // the format already checks it
    out[key] = value;
  }
  for (const key of JUNCTORS) {
    if (out[key] !== undefined) {
      throw new StructuralSchemaError(path, `"${key}" is not structural (use one type, or int-or-string)`);
    }
  }
  for (const key of UNSUPPORTED) {
    if (out[key] !== undefined) throw new StructuralSchemaError(path, `"${key}" is not supported in a CRD`);
  }
  if (typeof out["type"] !== "string") throw new StructuralSchemaError(path, "every node needs a type");
  const description = out["description"];
  if (typeof description === "string" && description.length > MAX_DESCRIPTION) {
    throw new StructuralSchemaError(path, `description longer than ${MAX_DESCRIPTION} characters`);
  }
  const properties = out["properties"];
  if (isObject(properties)) {
    const walked: JsonObject = {};
    for (const [name, child] of Object.entries(properties)) {
      if (!isObject(child)) throw new StructuralSchemaError(`${path}.${name}`, "is not a schema");
      walked[name] = walk(child, `${path}.${name}`);
    }
    out["properties"] = walked;
    if (Array.isArray(out["required"]) && out["required"].length === 0) delete out["required"];
  }
  const additional = out["additionalProperties"];
  if (isObject(additional)) {
    if (properties !== undefined) {
      throw new StructuralSchemaError(path, "properties and additionalProperties are mutually exclusive");
    }
    out["additionalProperties"] = walk(additional, `${path}.*`);
  }
  const items = out["items"];
  if (items !== undefined) {
    if (!isObject(items)) throw new StructuralSchemaError(`${path}[]`, "tuple items are not structural");
    out["items"] = walk(items, `${path}[]`);
  }
  return out;
}

/** Throws StructuralSchemaError naming the path of the first node Kubernetes would refuse. */
export function toStructural(schema: Json, path = ""): JsonObject {
  if (!isObject(schema)) throw new StructuralSchemaError(path, "is not a schema");
  return walk(schema, path);
}
