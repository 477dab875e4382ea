// Which collection a kind lives in. Informers need the REST path; the generic object client finds
// it by discovery, but a watch must know it before the first request.

export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** Lower-case plural, the path segment: "deployments", "embeddingmodels". */
  readonly plural: string;
  /** Default true. */
  readonly namespaced?: boolean;
}

/** The collection path, across all namespaces when `namespace` is omitted. */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const base = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = namespace && ref.namespaced !== false ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${ref.plural}`;
}

export function describeResource(ref: ResourceRef): string {
  return `${ref.plural}.${ref.apiVersion}`;
}
