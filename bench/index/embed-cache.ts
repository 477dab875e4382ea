// Embeds the WordNet text corpus once with the real MiniLM engine (the same onnxruntime engine the
// encoder server runs, in-process: the bench measures the index, not HTTP to the encoder) and caches
// the float32 vectors under ~/.cache/embedops/bench/<model fingerprint>/, so later runs skip the
// minutes of inference. Run directly to warm the cache: node --import tsx bench/index/embed-cache.ts
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadEngine } from "../../src/encoder/onnx-engine.js";
import { loadWordnetTexts } from "./text-corpus.js";

export const benchCacheDir =
  process.env.EMBEDOPS_BENCH_CACHE ?? join(homedir(), ".cache", "embedops", "bench");
export const defaultModelDir = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "models",
  "all-minilm-l6-v2",
);

export interface EmbeddedCorpus {
  texts: string[];
  vectors: Float32Array;
  dimension: number;
  fingerprint: string;
  /** Wall time of the embedding run that filled the cache (not of this load). */
  embedSeconds: number;
  embedThreads: number;
  tokens: number;
}

interface CacheMeta {
  fingerprint: string;
  count: number;
  dimension: number;
  textsSha256: string;
  embedSeconds: number;
  embedThreads: number;
  tokens: number;
}

function sha256(texts: readonly string[]): string {
  const h = createHash("sha256");
  for (const t of texts) h.update(t).update("\n");
  return h.digest("hex");
}

/** The first `count` corpus texts, embedded (document side) and L2-normalised as the encoder does. */
export async function embeddedCorpus(
  count: number,
  opts: { modelDir?: string; threads?: number; log?: (msg: string) => void } = {},
): Promise<EmbeddedCorpus> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const all = loadWordnetTexts();
  if (all.length < count) throw new Error(`the WordNet corpus has ${all.length} texts, fewer than ${count}`);
  const texts = all.slice(0, count);
  const textsSha256 = sha256(texts);
  const threads = opts.threads ?? 2;
  const engine = await loadEngine(opts.modelDir ?? defaultModelDir, { threads });
  const dir = join(benchCacheDir, `minilm-${engine.fingerprint}`);
  const metaPath = join(dir, `corpus-${count}.json`);
  const vecPath = join(dir, `corpus-${count}.f32`);
  if (existsSync(metaPath) && existsSync(vecPath)) {
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as CacheMeta;
    if (meta.textsSha256 === textsSha256 && meta.fingerprint === engine.fingerprint) {
      await engine.close();
      const buf = readFileSync(vecPath);
      const vectors = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
      return { texts, vectors, ...meta };
    }
    log(`embedding cache ${metaPath} is for other texts; re-embedding`);
  }
  const dim = engine.config.dimension;
  const prefix = engine.config.documentPrefix;
  const tokenized = texts.map((t, i) => ({ i, ids: engine.tokenize(prefix + t).ids }));
  // Length-sorted batches waste almost nothing on padding; a token budget keeps batches cache-sized.
  tokenized.sort((a, b) => a.ids.length - b.ids.length);
  const vectors = new Float32Array(count * dim);
  const budget = 4096;
  const t0 = performance.now();
  let done = 0;
  let tokens = 0;
  let lastLog = t0;
  for (let at = 0; at < tokenized.length; ) {
    const len = tokenized[at]!.ids.length;
    const rows = Math.max(1, Math.min(128, Math.floor(budget / Math.max(len, 1))));
    const batch = tokenized.slice(at, at + rows);
    const seq = batch[batch.length - 1]!.ids.length;
    const out = await engine.run(batch.map((b) => b.ids));
    for (let r = 0; r < batch.length; r++) {
      const v = out[r]!;
      let norm = 0;
      for (let d = 0; d < dim; d++) norm += v[d]! * v[d]!;
      const scale = engine.config.normalize && norm > 0 ? 1 / Math.sqrt(norm) : 1;
      const base = batch[r]!.i * dim;
      for (let d = 0; d < dim; d++) vectors[base + d] = v[d]! * scale;
      tokens += batch[r]!.ids.length;
    }
    at += batch.length;
    done += batch.length;
    const now = performance.now();
    if (now - lastLog > 15_000) {
      lastLog = now;
      const rate = done / ((now - t0) / 1000);
      log(
        `embedded ${done}/${count} (${rate.toFixed(0)} texts/s, seq ${seq}, ETA ${((count - done) / rate).toFixed(0)} s)`,
      );
    }
  }
  const embedSeconds = (performance.now() - t0) / 1000;
  await engine.close();
  mkdirSync(dir, { recursive: true });
  writeFileSync(vecPath, Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  const meta: CacheMeta = {
    fingerprint: engine.fingerprint,
    count,
    dimension: dim,
    textsSha256,
    embedSeconds,
    embedThreads: threads,
    tokens,
  };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2));
  log(`embedded ${count} texts (${tokens} tokens) in ${embedSeconds.toFixed(1)} s -> ${vecPath}`);
  return { texts, vectors, ...meta };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const count = Number(process.argv[2] ?? "102000");
  await embeddedCorpus(count);
}
