// Everything the CRD generator and the parser need to know per kind, in one table.
import type { z } from "zod";
import { EmbeddingModel } from "./embedding-model.js";
import { IndexSnapshot } from "./index-snapshot.js";
import { VectorIndex } from "./vector-index.js";

export interface PrinterColumn {
  readonly name: string;
  readonly type: "string" | "integer" | "number" | "boolean" | "date";
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

export interface KindInfo {
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly schema: z.ZodType;
  readonly description: string;
  readonly printerColumns: readonly PrinterColumn[];
}

const ready: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: "The Ready condition.",
};
const phase: PrinterColumn = {
  name: "Phase",
  type: "string",
  jsonPath: ".status.phase",
  description: "Phase.",
};
const age: PrinterColumn = {
  name: "Age",
  type: "date",
  jsonPath: ".metadata.creationTimestamp",
  description: "Time since creation.",
};

export const KINDS = [
  {
    kind: "EmbeddingModel",
    plural: "embeddingmodels",
    singular: "embeddingmodel",
    shortNames: ["em"],
    schema: EmbeddingModel,
    description: "An ONNX sentence encoder served by embedops.",
    printerColumns: [
      ready,
      phase,
      {
        name: "Fingerprint",
        type: "string",
        jsonPath: ".status.fingerprintShort",
        description: "Model fingerprint prefix.",
      },
      { name: "Replicas", type: "integer", jsonPath: ".status.readyReplicas", description: "Ready pods." },
      {
        name: "Canary",
        type: "integer",
        jsonPath: ".status.canary.weight",
        description: "Percent of traffic on the canary.",
      },
      {
        name: "Rollout",
        type: "string",
        jsonPath: ".status.canary.phase",
        description: "Phase of the encoder rollout in progress, or of the last one.",
      },
      age,
    ],
  },
  {
    kind: "VectorIndex",
    plural: "vectorindexes",
    singular: "vectorindex",
    shortNames: ["vi"],
    schema: VectorIndex,
    description: "A sharded HNSW index built with one EmbeddingModel.",
    printerColumns: [
      ready,
      phase,
      { name: "Model", type: "string", jsonPath: ".spec.modelRef.name", description: "EmbeddingModel." },
      {
        name: "Generation",
        type: "string",
        jsonPath: ".status.activeGeneration",
        description: "Generation serving queries.",
      },
      { name: "Shards", type: "integer", jsonPath: ".spec.shards", description: "Shards." },
      {
        name: "Vectors",
        type: "integer",
        jsonPath: ".status.vectors",
        description: "Vectors in the active generation.",
      },
      {
        name: "Backfill",
        type: "string",
        jsonPath: ".status.backfillProgress",
        description: 'The backfill of the generation being moved to, e.g. "41% ETA 3m".',
      },
      {
        name: "Fingerprint",
        type: "string",
        jsonPath: ".status.fingerprintShort",
        description: "Model fingerprint prefix.",
        priority: 1,
      },
      {
        name: "Rollout",
        type: "string",
        jsonPath: ".status.rollout.phase",
        description: "Phase of the move to a new generation in progress, or of the last one.",
        priority: 1,
      },
      {
        name: "Last Snapshot",
        type: "date",
        jsonPath: ".status.lastSnapshot.completedAt",
        description: "Age of the newest Succeeded IndexSnapshot.",
      },
      age,
    ],
  },
  {
    kind: "IndexSnapshot",
    plural: "indexsnapshots",
    singular: "indexsnapshot",
    shortNames: ["isnap"],
    schema: IndexSnapshot,
    description: "A point-in-time copy of one VectorIndex generation.",
    printerColumns: [
      { name: "Index", type: "string", jsonPath: ".spec.indexRef.name", description: "VectorIndex." },
      phase,
      { name: "Vectors", type: "integer", jsonPath: ".status.vectors", description: "Vectors copied." },
      { name: "Size", type: "string", jsonPath: ".status.size", description: "Bytes copied." },
      age,
    ],
  },
] as const satisfies readonly KindInfo[];

export type KindName = (typeof KINDS)[number]["kind"];

export function kindInfo(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}
