// The inference engine: the tokenizer on the calling (main) thread, and one onnxruntime CPU session in
// a worker thread (engine-worker.ts), because onnxruntime-node's session.run is synchronous on the
// thread that calls it. Pooling runs in the worker, in JS, so one ONNX file serves every pooling mode
// and the fingerprint covers the choice.
import { createLogger, type Logger } from "../util/log.js";
import type { EncoderEngine, ModelConfig } from "./engine-types.js";
import { InferenceWorker } from "./inference-worker.js";
import { loadModelDir } from "./model-dir.js";
import type { SpaceSettings } from "./space-settings.js";
import { loadTokenizer } from "./tokenizer.js";
import type { WorkerSetup } from "./worker-protocol.js";

export interface EngineOptions {
  /** onnxruntime intra-op threads; the encoder's CPU request should match it. */
  threads: number;
  /** Where a crash of the inference worker is reported; default a logger with role "encoder". */
  log?: Logger;
  /** The EmbeddingModel spec's settings, checked against the directory's (space-settings.ts); default none. */
  space?: SpaceSettings;
}

export async function loadEngine(modelDir: string, options: EngineOptions): Promise<EncoderEngine> {
  const threads = options.threads;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer, got ${threads}`);
  }
  const log = options.log ?? createLogger({ role: "encoder" });
  const dir = await loadModelDir(modelDir, options.space);
  const tokenizer = await loadTokenizer(
    dir.tokenizerPath,
    dir.tokenizerConfigPath,
    dir.config.maxSequenceLength,
  );
  const config: ModelConfig = dir.config;
  const setup: WorkerSetup = {
    onnxPath: dir.onnxPath,
    threads,
    pooling: config.pooling,
    dimension: config.dimension,
    padId: tokenizer.padId,
  };
  const onDeath = (err: Error) =>
    log.error("inference worker died; the batches it held fail and the next batch starts a new worker", {
      err,
      model: config.name,
    });

  let current = await InferenceWorker.start(setup, onDeath);
  // A worker that died is replaced on the next batch (reloading the model, about a second), so one
  // crash fails only the batches that were in it.
  let replacing: Promise<InferenceWorker> | undefined;
  const live = async (): Promise<InferenceWorker> => {
    if (!current.dead) return current;
    replacing ??= InferenceWorker.start(setup, onDeath).finally(() => {
      replacing = undefined;
    });
    current = await replacing;
    return current;
  };
  let closed = false;

  const engine: EncoderEngine = {
    config,
    fingerprint: dir.fingerprint,
    threads,
    tokenize: (text) => tokenizer.tokenize(text),
    async run(batch) {
      if (closed) throw new Error("encoder engine is closed");
      if (batch.length === 0) return [];
      for (const row of batch) {
        if (row.length === 0)
          throw new Error("cannot run an empty token row; tokenize() always adds special tokens");
      }
      return (await live()).run(batch);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (replacing !== undefined) current = await replacing.catch(() => current);
      await current.close();
    },
  };

  // Fail at load, not on the first request, when embedops-model.json's dimension disagrees with the model.
  try {
    await engine.run([tokenizer.tokenize("warm-up").ids]);
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}
