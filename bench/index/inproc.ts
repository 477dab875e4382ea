// System (a): hnswlib-node in this process, one thread, no I/O: the ceiling any server around the
// same library can reach.
import hnswlib from "hnswlib-node";
import type { VectorSet } from "./datasets.js";
import { meanRecall } from "./recall.js";

export interface SweepPoint {
  ef: number;
  recall: number;
  qps: number;
  meanMs: number;
  queries: number;
}

export interface InprocResult {
  buildSeconds: number;
  buildRate: number;
  curve: SweepPoint[];
  /** hnswlib's graph holds its vectors: this is the whole in-memory cost of the index. */
  heapDeltaBytes: number;
}

export function rowsAsArrays(data: Float32Array, dim: number): number[][] {
  const out: number[][] = [];
  for (let off = 0; off < data.length; off += dim) out.push(Array.from(data.subarray(off, off + dim)));
  return out;
}

export function runInproc(
  set: VectorSet,
  truth: number[][],
  efs: readonly number[],
  params: { m: number; efConstruction: number; k: number },
  log: (m: string) => void,
): InprocResult {
  const rssBefore = process.memoryUsage().rss;
  const index = new hnswlib.HierarchicalNSW(set.metric, set.dim);
  index.initIndex(set.n, params.m, params.efConstruction, 100);
  const t0 = performance.now();
  for (let i = 0; i < set.n; i++)
    index.addPoint(Array.from(set.base.subarray(i * set.dim, (i + 1) * set.dim)), i);
  const buildSeconds = (performance.now() - t0) / 1000;
  const heapDeltaBytes = process.memoryUsage().rss - rssBefore;
  log(`${set.name} (a) in-process: built ${set.n} in ${buildSeconds.toFixed(1)} s`);
  // Conversion to number[] is the binding's cost, not the search's: done before the clock starts.
  const queries = rowsAsArrays(set.queries, set.dim);
  const curve: SweepPoint[] = [];
  for (const ef of efs) {
    index.setEf(ef);
    for (let q = 0; q < Math.min(50, queries.length); q++) index.searchKnn(queries[q]!, params.k);
    const found: number[][] = new Array(queries.length);
    const s = performance.now();
    for (let q = 0; q < queries.length; q++) found[q] = index.searchKnn(queries[q]!, params.k).neighbors;
    const seconds = (performance.now() - s) / 1000;
    const point = {
      ef,
      recall: meanRecall(found, truth, params.k),
      qps: queries.length / seconds,
      meanMs: (seconds * 1000) / queries.length,
      queries: queries.length,
    };
    curve.push(point);
    log(`  (a) ef=${ef} recall=${point.recall.toFixed(4)} qps=${point.qps.toFixed(0)}`);
  }
  return { buildSeconds, buildRate: set.n / buildSeconds, curve, heapDeltaBytes };
}
