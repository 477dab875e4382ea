import { z } from "zod";
import { GROUP, VERSION } from "../v1alpha1/group.js";
import type { KindInfo } from "../v1alpha1/kinds.js";
import { isObject, type Json, type JsonObject } from "./json.js";
import { toStructural } from "./structural.js";

// Kubernetes owns these; the CRD schema may not constrain metadata beyond its type.
const KUBE_OWNED: JsonObject = {
  apiVersion: { type: "string", description: "Versioned schema of this representation of an object." },
  kind: { type: "string", description: "REST resource this object represents." },
  metadata: { type: "object" },
};

export function openApiSchema(info: KindInfo): JsonObject {
  // `io: "input"` so defaulted fields are optional and carry `default`, which the API server applies.
  const raw = z.toJSONSchema(info.schema, { target: "openapi-3.0", io: "input" }) as Json;
  if (!isObject(raw) || !isObject(raw["properties"]))
    throw new Error(`${info.kind}: the resource schema has no properties`);
  // Replaced before the structural pass: ObjectMeta's zod form is for files, not for the API server.
  const { apiVersion: _a, kind: _k, metadata: _m, ...ours } = raw["properties"];
  const schema = toStructural({ ...raw, properties: ours });
  const rest = schema["properties"] as JsonObject;
  const required = Array.isArray(schema["required"])
    ? schema["required"].filter((r) => typeof r === "string" && !(r in KUBE_OWNED))
    : [];
  return {
    description: info.description,
    type: "object",
    properties: { ...KUBE_OWNED, ...rest },
    ...(required.length > 0 ? { required } : {}),
    ...(schema["x-kubernetes-validations"] !== undefined
      ? { "x-kubernetes-validations": schema["x-kubernetes-validations"] }
      : {}),
  };
}

export function buildCrd(info: KindInfo): JsonObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${info.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "embedops", "app.kubernetes.io/part-of": "embedops" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: [...info.shortNames],
        categories: ["embedops"],
      },
      scope: "Namespaced",
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.printerColumns.map((c) => ({ ...c }) as JsonObject),
          schema: { openAPIV3Schema: openApiSchema(info) },
        },
      ],
    },
  };
}
