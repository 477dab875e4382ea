// Small response helpers shared by the encoder's routes and middleware.
import type { Request, Response } from "express";
import { ApiError } from "./errors.js";
import type { EncoderRuntime } from "./runtime.js";

/** Send an already-serialised JSON body; skips express's send() (ETag hashing, type sniffing). */
export function sendJson(rt: EncoderRuntime, res: Response, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  // While draining for shutdown, every answer closes its connection so the server can finish.
  if (rt.stopping) res.setHeader("Connection", "close");
  res.end(body);
}

/** TEI's routes answer errors in TEI's shape; everything else in OpenAI's. */
export function isTeiRoute(req: Request): boolean {
  return req.path === "/embed";
}

/** A bounded label for metrics: known routes by name, anything else as "other". */
const KNOWN = new Set([
  "/v1/embeddings",
  "/embeddings",
  "/embed",
  "/info",
  "/healthz",
  "/readyz",
  "/metrics",
]);
export function routeLabel(req: Request): string {
  return KNOWN.has(req.path) ? req.path : "other";
}

/**
 * Aborts when the connection closes before the response is written, so the batcher drops the
 * request's queued inputs instead of computing vectors nobody will read.
 */
export function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished)
      controller.abort(
        new ApiError(499, "the client closed the connection before the answer", { code: "client_closed" }),
      );
  });
  return controller.signal;
}
