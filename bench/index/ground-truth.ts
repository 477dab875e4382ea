// Exact top-k by brute force (hnswlib's BruteforceSearch: the same SIMD distance code as the graph,
// scanning every vector), cached per data set: it costs more than any single sweep point.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import hnswlib from "hnswlib-node";
import type { VectorSet } from "./datasets.js";
import { benchCacheDir } from "./embed-cache.js";

function digest(set: VectorSet): string {
  const h = createHash("sha256");
  h.update(`${set.name}:${set.metric}:${set.dim}:${set.n}:${set.nq}`);
  h.update(Buffer.from(set.base.buffer, set.base.byteOffset, set.base.byteLength));
  h.update(Buffer.from(set.queries.buffer, set.queries.byteOffset, set.queries.byteLength));
  return h.digest("hex").slice(0, 16);
}

export function groundTruth(
  set: VectorSet,
  k: number,
  log: (m: string) => void,
): { truth: number[][]; seconds: number; cached: boolean } {
  const dir = join(benchCacheDir, "ground-truth");
  const file = join(dir, `${set.name}-${set.n}-${set.nq}-k${k}-${digest(set)}.json`);
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, "utf8")) as { truth: number[][]; seconds: number };
    return { ...cached, cached: true };
  }
  const t0 = performance.now();
  const bf = new hnswlib.BruteforceSearch(set.metric, set.dim);
  bf.initIndex(set.n);
  for (let i = 0; i < set.n; i++)
    bf.addPoint(Array.from(set.base.subarray(i * set.dim, (i + 1) * set.dim)), i);
  const truth: number[][] = [];
  for (let q = 0; q < set.nq; q++) {
    const r = bf.searchKnn(Array.from(set.queries.subarray(q * set.dim, (q + 1) * set.dim)), k);
    // searchKnn returns nearest first for both spaces.
    truth.push(r.neighbors);
  }
  const seconds = (performance.now() - t0) / 1000;
  log(`${set.name}: exact top-${k} for ${set.nq} queries over ${set.n} vectors in ${seconds.toFixed(1)} s`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify({ truth, seconds }));
  return { truth, seconds, cached: false };
}
