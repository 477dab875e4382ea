// What a store holds: every snapshot under a prefix, complete (its top manifest exists) or not. An
// incomplete one is an interrupted or running create; `embedops snapshot list` shows it as such and
// restore refuses it.
import { parseManifest, SnapshotManifest } from "./manifest.js";
import type { SnapshotStore, StoredObject } from "./store.js";

export interface CatalogEntry {
  readonly index: string;
  readonly snapshot: string;
  /** The root key, ending in "/". */
  readonly root: string;
  readonly complete: boolean;
  readonly objects: number;
  readonly bytes: number;
  /** From the top manifest, when complete. */
  readonly manifest?: SnapshotManifest;
}

/** Groups object keys <prefix>/<index>/<snapshot>/... by snapshot; pure, sorted by index then name. */
export function groupSnapshots(
  prefix: string,
  objects: readonly StoredObject[],
): { index: string; snapshot: string; root: string; objects: number; bytes: number; complete: boolean }[] {
  const base = prefix.split("/").filter((p) => p !== "");
  const groups = new Map<
    string,
    { index: string; snapshot: string; root: string; objects: number; bytes: number; complete: boolean }
  >();
  for (const o of objects) {
    const parts = o.key.split("/");
    const rest = parts.slice(base.length);
    if (base.some((p, i) => parts[i] !== p) || rest.length < 3) continue;
    const [index = "", snapshot = ""] = rest;
    const root = [...base, index, snapshot].join("/") + "/";
    const g = groups.get(root) ?? { index, snapshot, root, objects: 0, bytes: 0, complete: false };
    g.objects++;
    g.bytes += o.bytes;
    if (rest.length === 3 && rest[2] === "manifest.json") g.complete = true;
    groups.set(root, g);
  }
  return [...groups.values()].sort((a, b) => (a.root < b.root ? -1 : a.root > b.root ? 1 : 0));
}

export async function listSnapshots(
  store: SnapshotStore,
  prefix: string,
  index?: string,
): Promise<CatalogEntry[]> {
  const base = prefix.split("/").filter((p) => p !== "");
  const listPrefix = [...base, ...(index ? [index] : [])].map((p) => `${p}/`).join("");
  const out: CatalogEntry[] = [];
  for (const g of groupSnapshots(prefix, await store.list(listPrefix))) {
    const key = `${g.root}manifest.json`;
    out.push(
      g.complete ? { ...g, manifest: parseManifest(SnapshotManifest, await store.getJson(key), key) } : g,
    );
  }
  return out;
}
