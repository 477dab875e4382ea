// Validation of resource YAML outside a cluster (`embedops serve`), with the same schemas the CRDs
// are generated from, and errors worded like the API server's.
import {
  type DocumentOptions,
  parseAllDocuments,
  type SchemaOptions,
  type ParseOptions as YamlParseOptions,
} from "yaml";
import type { EmbeddingModel } from "./embedding-model.js";
import { API_VERSION } from "./group.js";
import type { IndexSnapshot } from "./index-snapshot.js";
import { issueMessages } from "./issue-message.js";
import { KINDS, kindInfo } from "./kinds.js";
import type { VectorIndex } from "./vector-index.js";

export type EmbedopsResource = EmbeddingModel | VectorIndex | IndexSnapshot;

export interface ResourceError {
  /** 0-based position of the YAML document in the file (or in the list passed in). */
  readonly document: number;
  readonly kind?: string;
  readonly name?: string;
  /** Dotted field path, e.g. "spec.shards"; empty for problems with the whole document. */
  readonly path: string;
  readonly message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: ResourceError[] };

export interface ParseOptions {
  /**
   * Accept documents of other kinds (a Secret, a ConfigMap) and return them in `others` instead of
   * failing: a file for `kubectl apply` often carries them alongside.
   */
  readonly allowOtherKinds?: boolean;
}

export interface ParsedFile {
  readonly resources: EmbedopsResource[];
  readonly others: Record<string, unknown>[];
}

/** `document 1: VectorIndex "docs": spec.shards: must be >= 1` */
export function formatResourceError(e: ResourceError): string {
  const who = e.kind ? `${e.kind}${e.name ? ` "${e.name}"` : ""}: ` : "";
  return `document ${e.document + 1}: ${who}${e.path ? `${e.path}: ` : ""}${e.message}`;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function identify(obj: Record<string, unknown>): { kind?: string; name?: string } {
  const meta = obj["metadata"];
  const name = meta && typeof meta === "object" ? str((meta as Record<string, unknown>)["name"]) : undefined;
  return { kind: str(obj["kind"]), name };
}

function isEmbedops(obj: Record<string, unknown>): boolean {
  return str(obj["apiVersion"])?.split("/")[0] === API_VERSION.split("/")[0];
}

// YAML 1.1 as kubectl reads it (sigs.k8s.io/yaml), so `normalize: yes` means true here too; but
// timestamps and sexagesimal numbers stay strings, as they do on their way to JSON in kubectl.
const KUBECTL_YAML: YamlParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  customTags: (tags) =>
    tags.filter(
      (t) => typeof t === "string" || (t.tag !== "tag:yaml.org,2002:timestamp" && t.format !== "TIME"),
    ),
};

const KIND_LIST = KINDS.map((k) => k.kind).join(", ");

/** Validates one object, applying defaults; `document` only labels the errors. */
export function parseResource(obj: unknown, document = 0): ParseResult<EmbedopsResource> {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return { ok: false, errors: [{ document, path: "", message: "must be a YAML mapping (an object)" }] };
  }
  const record = obj as Record<string, unknown>;
  const { kind, name } = identify(record);
  const fail = (path: string, message: string): ParseResult<EmbedopsResource> => ({
    ok: false,
    errors: [{ document, kind, name, path, message }],
  });
  if (record["apiVersion"] !== API_VERSION) {
    const got = record["apiVersion"] === undefined ? "missing" : JSON.stringify(record["apiVersion"]);
    return fail("apiVersion", `must be "${API_VERSION}", got ${got}`);
  }
  const info = kind ? kindInfo(kind) : undefined;
  if (!info) {
    return fail(
      "kind",
      `must be one of ${KIND_LIST}, got ${kind === undefined ? "nothing" : JSON.stringify(kind)}`,
    );
  }
  const result = info.schema.safeParse(obj);
  if (result.success) return { ok: true, value: result.data as EmbedopsResource };
  const errors = result.error.issues.flatMap((issue) =>
    issueMessages(issue, obj, info.schema).map((m) => ({ document, kind, name, ...m })),
  );
  return { ok: false, errors };
}

/** Parses a multi-document YAML text; every problem in every document is reported at once. */
export function parseResources(yamlText: string, options: ParseOptions = {}): ParseResult<ParsedFile> {
  const errors: ResourceError[] = [];
  const resources: EmbedopsResource[] = [];
  const documents: number[] = [];
  const others: Record<string, unknown>[] = [];
  parseAllDocuments(yamlText, KUBECTL_YAML).forEach((doc, document) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0];
        const where = line ? ` at line ${line.line}, column ${line.col}` : "";
        errors.push({ document, path: "", message: `invalid YAML${where}: ${e.message.split("\n")[0]}` });
      }
      return;
    }
    const obj: unknown = doc.toJS();
    if (obj === null || obj === undefined) return; // an empty document, e.g. after a trailing "---"
    if (options.allowOtherKinds && typeof obj === "object" && !Array.isArray(obj)) {
      const record = obj as Record<string, unknown>;
      if (!isEmbedops(record)) {
        others.push(record);
        return;
      }
    }
    const parsed = parseResource(obj, document);
    if (parsed.ok) {
      resources.push(parsed.value);
      documents.push(document);
    } else errors.push(...parsed.errors);
  });
  errors.push(...duplicates(resources, documents));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { resources, others } };
}

// Two documents with one kind and name would silently overwrite each other under kubectl apply.
function duplicates(resources: EmbedopsResource[], documents: number[]): ResourceError[] {
  const seen = new Map<string, number>();
  const errors: ResourceError[] = [];
  resources.forEach((r, i) => {
    const key = `${r.kind}/${r.metadata.namespace ?? ""}/${r.metadata.name}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, documents[i] ?? i);
    else {
      errors.push({
        document: documents[i] ?? i,
        kind: r.kind,
        name: r.metadata.name,
        path: "metadata.name",
        message: `document ${first + 1} already defines this ${r.kind}; names must be unique per kind`,
      });
    }
  });
  return errors;
}
