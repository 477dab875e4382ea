// Small response helpers shared by the encoder's routes and middleware.
import type { Request, Response } from "express";
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
