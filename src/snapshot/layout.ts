// Where a snapshot's objects live inside a store. The schema promises <prefix>/<index>/<snapshot>/;
// keys are store-relative, "/"-separated, never with a leading "/" (S3 would keep it as part of the
// key; the path store would escape its directory).
const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The snapshot's root, ending in "/". `prefix` is spec.snapshot.store.s3.prefix ("" for a PVC). */
export function snapshotRoot(prefix: string, index: string, snapshot: string): string {
  for (const [what, v] of [
    ["index", index],
    ["snapshot", snapshot],
  ] as const) {
    if (!SEGMENT.test(v))
      throw new Error(`${what} name ${JSON.stringify(v)} is not a Kubernetes object name`);
  }
  const parts = prefix.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === ".."))
    throw new Error(`snapshot prefix ${JSON.stringify(prefix)} must not contain "." or ".." segments`);
  return [...parts, index, snapshot].join("/") + "/";
}

export const snapshotManifestKey = (root: string): string => `${root}manifest.json`;
export const shardPrefix = (root: string, shard: number): string => `${root}shard-${shard}/`;
export const shardManifestKey = (root: string, shard: number): string =>
  `${shardPrefix(root, shard)}manifest.json`;
