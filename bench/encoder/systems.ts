// The four systems the encoder benchmark compares, behind one shape: in-process engines that take a
// batch of texts, and HTTP servers that take OpenAI-style requests.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pipeline, env as tjsEnv } from "@huggingface/transformers";
import type { EncoderEngine } from "../../src/encoder/engine-types.js";
import { loadEngine } from "../../src/encoder/onnx-engine.js";
import { l2Normalize } from "../../src/encoder/pooling.js";
import { KeepAliveClient } from "../lib/http.js";
import { benchCache } from "../lib/plot.js";
import { freePort, type ServerProcess, startServer } from "../lib/process.js";
import { buildHfLayout } from "./hf-layout.js";

export interface InProcessSystem {
  /** Embed a batch of texts, normalised, as the server would answer them. */
  embedBatch(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** (a) our engine: tokenize + onnxruntime-node InferenceSession.run + pooling + L2, no HTTP. */
export async function startOnnxruntime(
  modelDir: string,
  threads: number,
): Promise<InProcessSystem & { engine: EncoderEngine }> {
  const engine = await loadEngine(modelDir, { threads });
  return {
    engine,
    async embedBatch(texts) {
      const rows = await engine.run(texts.map((t) => engine.tokenize(t).ids));
      return rows.map(l2Normalize);
    },
    close: () => engine.close(),
  };
}

// The slice of transformers.js's feature-extraction pipeline we call; its own typings are a union
// over every task and do not narrow from the task string.
type FeatureExtractor = (
  texts: string[],
  options: { pooling: "mean" | "cls"; normalize: boolean },
) => Promise<{ dims: number[]; data: Float32Array }>;

/** (c) @huggingface/transformers' feature-extraction pipeline on the same ONNX file. */
export async function startTransformersJs(
  modelDir: string,
  engine: EncoderEngine,
  threads: number,
): Promise<InProcessSystem> {
  const root = join(benchCache, "bench", "hf-transformersjs");
  buildHfLayout(modelDir, root, engine.config, "onnx/model.onnx");
  tjsEnv.allowRemoteModels = false;
  tjsEnv.allowLocalModels = true;
  tjsEnv.localModelPath = `${root}/`;
  const extractor = (await pipeline("feature-extraction", engine.config.name, {
    dtype: "fp32",
    device: "cpu",
    // The same session settings as our engine, so only the code around the session differs.
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: "sequential" },
  })) as unknown as FeatureExtractor & { dispose(): Promise<void> };
  const dim = engine.config.dimension;
  return {
    async embedBatch(texts) {
      const out = await extractor([...texts], {
        pooling: engine.config.pooling,
        normalize: engine.config.normalize,
      });
      const rows: Float32Array[] = [];
      for (let i = 0; i < texts.length; i++) rows.push(out.data.subarray(i * dim, (i + 1) * dim));
      return rows;
    },
    close: () => extractor.dispose(),
  };
}

export interface HttpSystem {
  url: string;
  path: string;
  model: string;
  server: ServerProcess;
  /** One client per cell, sized to its concurrency. */
  client(concurrency: number): KeepAliveClient;
}

/** POST texts to an OpenAI-style route with base64 vectors; throws unless every vector came back. */
export async function embedHttp(
  client: KeepAliveClient,
  sys: Pick<HttpSystem, "path" | "model">,
  texts: readonly string[],
): Promise<Float32Array[]> {
  const body = JSON.stringify({
    input: texts.length === 1 ? texts[0] : texts,
    model: sys.model,
    encoding_format: "base64",
  });
  const res = await client.post(sys.path, body);
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.toString("utf8").slice(0, 200)}`);
  const parsed = JSON.parse(res.body.toString("utf8")) as { data?: { embedding: string; index?: number }[] };
  const data = parsed.data ?? [];
  if (data.length !== texts.length)
    throw new Error(`asked for ${texts.length} embeddings, got ${data.length}`);
  return data.map((d) => {
    const bytes = Buffer.from(d.embedding, "base64");
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  });
}

/** (b) `embedops encoder` in its own process, started the way a user starts it. */
export async function startEmbedops(
  repoRoot: string,
  modelDir: string,
  threads: number,
  modelName: string,
  nodeFlags: string[] = [],
): Promise<HttpSystem> {
  const server = await startServer({
    command: process.execPath,
    args: [
      ...nodeFlags,
      join(repoRoot, "bin", "embedops.mjs"),
      "encoder",
      "--model-dir",
      modelDir,
      "--port",
      "0",
      "--threads",
      String(threads),
    ],
    cwd: repoRoot,
    urlFromLine: (line) => {
      if (!line.includes('"listening"')) return undefined;
      try {
        const v = JSON.parse(line) as { msg?: string; url?: string };
        return v.msg === "listening" ? v.url : undefined;
      } catch {
        return undefined;
      }
    },
    readyPath: "/readyz",
    timeoutMs: 120_000,
  });
  return {
    url: server.url,
    path: "/v1/embeddings",
    model: modelName,
    server,
    client: (c) => new KeepAliveClient(server.url, c),
  };
}

export const infinityVenv = join(benchCache, "venv-infinity");

/** (d) Infinity (infinity-emb, ONNX backend via optimum) serving the same ONNX file. */
export async function startInfinity(
  modelDir: string,
  engine: EncoderEngine,
  threads: number,
  batchSize: number,
): Promise<HttpSystem> {
  const bin = join(infinityVenv, "bin", "infinity_emb");
  if (!existsSync(bin)) {
    throw new Error(
      `${bin} is missing: bash scripts/bench-venv.sh did not install infinity-emb (see ${infinityVenv}.log)`,
    );
  }
  const layoutRoot = join(benchCache, "bench", "hf-infinity");
  const dir = buildHfLayout(modelDir, layoutRoot, engine.config, "model.onnx");
  const port = await freePort();
  const name = engine.config.name;
  const server = await startServer({
    command: bin,
    // --model-id "." from inside the layout: infinity 0.0.78 hands optimum 2.x the ONNX path as it
    // listed it, and optimum matches only bare file names, so an absolute model path fails to load.
    args: [
      "v2",
      "--model-id",
      ".",
      "--served-model-name",
      name,
      "--engine",
      "optimum",
      "--device",
      "cpu",
      "--batch-size",
      String(batchSize),
      "--pooling-method",
      engine.config.pooling,
      // Its default SQLite cache would answer repeated texts without running the model.
      "--no-vector-disk-cache",
      // Its warm-up runs 32 × 512-token batches: minutes on 2 busy cores; the bench warms up itself.
      "--no-model-warmup",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--log-level",
      "warning",
    ],
    cwd: dir,
    env: {
      ...process.env,
      HF_HOME: join(benchCache, "bench", "infinity-home"),
      HF_HUB_OFFLINE: "1",
      TRANSFORMERS_OFFLINE: "1",
      DO_NOT_TRACK: "1",
      INFINITY_ANONYMOUS_USAGE_STATS: "0",
      // onnxruntime's Python API takes no thread count from infinity; these cap its pools at ours.
      OMP_NUM_THREADS: String(threads),
      MKL_NUM_THREADS: String(threads),
    },
    url: `http://127.0.0.1:${port}`,
    readyPath: "/health",
    timeoutMs: 240_000,
  });
  return {
    url: server.url,
    path: "/embeddings",
    model: name,
    server,
    client: (c) => new KeepAliveClient(server.url, c),
  };
}
