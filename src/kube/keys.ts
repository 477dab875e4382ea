// Workqueue keys: "namespace/name" for namespaced objects, "name" for cluster-scoped ones, the
// same convention as client-go's MetaNamespaceKeyFunc so logs read the same across operators.

export interface ObjectRef {
  readonly namespace?: string | undefined;
  readonly name: string;
}

interface HasMetadata {
  readonly metadata?: { readonly name?: string; readonly namespace?: string } | undefined;
}

export function keyOf(ref: ObjectRef): string {
  return ref.namespace ? `${ref.namespace}/${ref.name}` : ref.name;
}

export function objectKey(obj: HasMetadata): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error("cannot key an object without metadata.name; was it read from the API server?");
  return keyOf({ namespace: obj.metadata?.namespace, name });
}

export function parseKey(key: string): ObjectRef {
  const parts = key.split("/");
  if (parts.length === 1 && parts[0]) return { name: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
  throw new Error(`workqueue key "${key}" is not "name" or "namespace/name"`);
}
