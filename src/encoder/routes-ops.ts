// Probes, /info and /metrics. /healthz says the process serves HTTP; /readyz says the model is loaded
// and warmed up (and turns 503 again while draining for shutdown, so load balancers stop sending).
import type { Express } from "express";
import { version } from "../version.js";
import { sendJson } from "./http-util.js";
import type { EncoderRuntime } from "./runtime.js";

export function opsRoutes(app: Express, rt: EncoderRuntime): void {
  app.get("/healthz", (_req, res) => sendJson(rt, res, 200, `{"status":"ok"}`));

  app.get("/readyz", (_req, res) => {
    if (rt.ready && !rt.stopping) {
      sendJson(rt, res, 200, `{"status":"ready"}`);
      return;
    }
    const reason = rt.stopping ? "shutting down" : "the model is loading";
    res.setHeader("Retry-After", "1");
    sendJson(rt, res, 503, JSON.stringify({ status: "not ready", reason }));
  });

  app.get("/metrics", async (_req, res) => {
    const text = await rt.metrics.registry.metrics();
    res.setHeader("Content-Type", rt.metrics.registry.contentType);
    res.end(text);
  });
}

/** GET /info: behind auth like the embedding routes, since it names the model and its limits. */
export function infoRoute(app: Express, rt: EncoderRuntime): void {
  app.get("/info", (_req, res) => {
    const { engine } = rt.serving();
    const c = engine.config;
    const s = rt.settings;
    const info = {
      model_id: c.name,
      dimension: c.dimension,
      pooling: c.pooling,
      normalize: c.normalize,
      max_input_length: c.maxSequenceLength,
      fingerprint: engine.fingerprint,
      prefixes: { query: c.queryPrefix, document: c.documentPrefix },
      max_batch_tokens: s.maxBatchTokens,
      max_batch_requests: s.maxBatchRequests,
      max_concurrent_requests: s.maxConcurrentRequests,
      max_client_batch_size: s.maxClientBatchSize,
      max_body_bytes: s.maxBodyBytes,
      auto_truncate: true,
      threads: engine.threads,
      auth: s.apiKeys.length > 0,
      version,
    };
    sendJson(rt, res, 200, JSON.stringify(info));
  });
}
