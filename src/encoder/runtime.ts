// The encoder's live state, shared by the routes: settings, the engine once loaded, the batcher, the
// admission counter and the lifecycle flags. The server listens before the model loads, so every
// route asks the runtime whether it may serve yet.
import { Batcher } from "./batcher.js";
import type { EncoderEngine } from "./engine-types.js";
import { ApiError } from "./errors.js";
import type { EncoderMetrics } from "./metrics.js";

export interface EncoderSettings {
  /** Padded tokens (rows × longest row) one engine batch may hold; a longer single input runs alone. */
  maxBatchTokens: number;
  /** Inputs one engine batch may hold. */
  maxBatchRequests: number;
  /** Embedding requests in flight (queued or running) before new ones get 429. */
  maxConcurrentRequests: number;
  /** Inputs one HTTP request may carry. */
  maxClientBatchSize: number;
  /** Request body limit in bytes. */
  maxBodyBytes: number;
  /** Bearer tokens; empty disables auth. */
  apiKeys: readonly string[];
}

export const defaultSettings: EncoderSettings = {
  maxBatchTokens: 16384,
  maxBatchRequests: 32,
  maxConcurrentRequests: 512,
  maxClientBatchSize: 64,
  maxBodyBytes: 2 * 1024 * 1024,
  apiKeys: [],
};

/** Texts the warm-up batch runs before /readyz turns 200: a short and a full-length row. */
const WARM_UP_TEXTS = ["warm-up", "warm-up ".repeat(1024)];

export class EncoderRuntime {
  engine: EncoderEngine | undefined;
  batcher: Batcher | undefined;
  ready = false;
  stopping = false;
  inFlight = 0;

  constructor(
    readonly settings: EncoderSettings,
    readonly metrics: EncoderMetrics,
  ) {}

  /** Adopt a loaded engine, run one warm-up batch through it, then report ready. */
  async attach(engine: EncoderEngine): Promise<void> {
    this.engine = engine;
    await engine.run(WARM_UP_TEXTS.map((t) => engine.tokenize(t).ids));
    this.batcher = new Batcher(
      engine,
      { maxBatchTokens: this.settings.maxBatchTokens, maxBatchRequests: this.settings.maxBatchRequests },
      this.metrics,
    );
    this.ready = true;
  }

  /** The engine and batcher, or a 503 telling the client to retry while the model loads. */
  serving(): { engine: EncoderEngine; batcher: Batcher } {
    if (!this.ready || this.engine === undefined || this.batcher === undefined) {
      throw new ApiError(
        503,
        "the model is still loading; retry shortly (GET /readyz turns 200 when ready)",
        {
          headers: { "Retry-After": "1" },
        },
      );
    }
    return { engine: this.engine, batcher: this.batcher };
  }
}
