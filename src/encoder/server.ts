// The encoder server: an express app over an EncoderRuntime, and startEncoder() which listens first
// and loads the model second, so /healthz answers and /readyz reports loading while the model loads.
import { createServer } from "node:http";
import express, { type Express } from "express";
import { listen } from "../http/serve.js";
import { createLogger, type Logger } from "../util/log.js";
import type { EncoderEngine } from "./engine-types.js";
import { createEncoderMetrics } from "./metrics.js";
import {
  admission,
  auth,
  errorHandler,
  fingerprintHeader,
  jsonBody,
  notFound,
  requestMetrics,
} from "./middleware.js";
import { loadEngine } from "./onnx-engine.js";
import { openAiRoutes } from "./routes-openai.js";
import { infoRoute, opsRoutes } from "./routes-ops.js";
import { teiRoutes } from "./routes-tei.js";
import { defaultSettings, EncoderRuntime, type EncoderSettings } from "./runtime.js";
import type { SpaceSettings } from "./space-settings.js";

export function createEncoderApp(
  rt: EncoderRuntime,
  log: Logger = createLogger({ role: "encoder" }),
): Express {
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.use(fingerprintHeader(rt));
  app.use(requestMetrics(rt));
  // Routes sit on the app itself, not in nested Routers: a Router that does not match hands on via
  // setImmediate, which would let the batcher close a batch before this request joins it.
  opsRoutes(app, rt);
  app.use(auth(rt));
  infoRoute(app, rt);
  app.use(["/v1/embeddings", "/embeddings", "/embed"], admission(rt));
  app.use(jsonBody(rt));
  openAiRoutes(app, rt);
  teiRoutes(app, rt);
  app.use(notFound());
  app.use(errorHandler(rt, log));
  return app;
}

export interface StartEncoderOptions {
  modelDir: string;
  threads?: number;
  host?: string;
  port?: number;
  settings?: Partial<EncoderSettings>;
  log?: Logger;
  /** How long close() waits for in-flight requests before cutting connections; default 30 s. */
  drainTimeoutMs?: number;
  /** The `revision` label on every metric (the operator passes the pod's revision). */
  revision?: string;
  /**
   * The EmbeddingModel spec's embedding-space settings; a contradiction with the model directory
   * rejects `ready` with SpaceContradictionError (the CLI checks before it even listens).
   */
  space?: SpaceSettings;
}

export interface RunningEncoder {
  url: string;
  runtime: EncoderRuntime;
  /** Settles when the model is loaded and warmed up (rejects if loading failed). */
  ready: Promise<void>;
  /** Stop accepting, answer everything in flight (queued inputs too), release the engine. */
  close(): Promise<void>;
}

export async function startEncoder(options: StartEncoderOptions): Promise<RunningEncoder> {
  const log = options.log ?? createLogger({ role: "encoder" });
  const settings: EncoderSettings = { ...defaultSettings, ...options.settings };
  const rt = new EncoderRuntime(settings, createEncoderMetrics({ revision: options.revision }));
  const app = createEncoderApp(rt, log);
  const server = createServer(app);
  // Node's 5 s keep-alive timeout would race clients reusing a connection after a long queue wait
  // (the client sees ECONNRESET); 65 s outlasts the idle timeouts of common load balancers, which
  // must be the ones to close first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const listening = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0, log);

  let engine: EncoderEngine | undefined;
  const ready = (async () => {
    const started = performance.now();
    engine = await loadEngine(options.modelDir, { threads: options.threads ?? 2, log, space: options.space });
    await rt.attach(engine);
    log.info("model ready", {
      model: engine.config.name,
      fingerprint: engine.fingerprint,
      seconds: Math.round(performance.now() - started) / 1000,
    });
  })();
  // The caller decides what a failed load means (the CLI exits); never an unhandled rejection here.
  ready.catch(() => {});

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      rt.stopping = true;
      // Requests clients sent just before the signal may still sit unread in socket buffers while
      // this thread parses others; closing now would count their connections as idle and reset
      // them. Give the loop a moment and one I/O poll to read them, so they are answered too.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise((resolve) => setImmediate(resolve));
      const drained = listening.close();
      await rt.batcher?.idle();
      server.closeIdleConnections();
      const timeout = options.drainTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const cut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log.warn("drain timeout, closing connections", { timeoutMs: timeout });
          server.closeAllConnections();
          resolve();
        }, timeout);
      });
      await Promise.race([drained, cut]);
      clearTimeout(timer);
      await ready.catch(() => {});
      await engine?.close();
    })();
    return closing;
  };
  return { url: listening.url, runtime: rt, ready, close };
}
