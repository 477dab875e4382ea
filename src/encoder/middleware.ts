// Cross-cutting request handling: the fingerprint header, request metrics, auth, admission control,
// body parsing, 404 and the one central error handler. Order matters and is fixed in server.ts:
// cheap refusals (auth, 429) come before reading the body.
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import type { Logger } from "../util/log.js";
import { bearerToken, keyChecker } from "./auth.js";
import { ApiError, openAiErrorBody, teiErrorBody } from "./errors.js";
import { isTeiRoute, routeLabel, sendJson } from "./http-util.js";
import type { EncoderRuntime } from "./runtime.js";

export const FINGERPRINT_HEADER = "X-Embedops-Model-Fingerprint";

/** Paths that stay open without a token: probes and scraping must work without the key. */
const OPEN_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

export function fingerprintHeader(rt: EncoderRuntime): RequestHandler {
  return (_req, res, next) => {
    if (rt.engine !== undefined) res.setHeader(FINGERPRINT_HEADER, rt.engine.fingerprint);
    next();
  };
}

export function requestMetrics(rt: EncoderRuntime): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once("finish", () => {
      rt.metrics.requestDuration.observe(
        { route: routeLabel(req), status: String(res.statusCode) },
        (performance.now() - started) / 1000,
      );
    });
    next();
  };
}

export function auth(rt: EncoderRuntime): RequestHandler {
  if (rt.settings.apiKeys.length === 0) return (_req, _res, next) => next();
  const accepts = keyChecker(rt.settings.apiKeys);
  return (req, _res, next) => {
    if (OPEN_PATHS.has(req.path) || accepts(bearerToken(req.headers.authorization))) {
      next();
      return;
    }
    next(
      new ApiError(401, "missing or wrong API key; send the header Authorization: Bearer <key>", {
        headers: { "WWW-Authenticate": "Bearer" },
      }),
    );
  };
}

/** Refuse embedding requests beyond maxConcurrentRequests (queued or running) with 429. */
export function admission(rt: EncoderRuntime): RequestHandler {
  return (_req, res, next) => {
    if (rt.inFlight >= rt.settings.maxConcurrentRequests) {
      next(
        new ApiError(
          429,
          `the server is at its limit of ${rt.settings.maxConcurrentRequests} concurrent requests; retry after a second`,
          { headers: { "Retry-After": "1" } },
        ),
      );
      return;
    }
    rt.inFlight++;
    rt.metrics.inFlight.set(rt.inFlight);
    res.once("close", () => {
      rt.inFlight--;
      rt.metrics.inFlight.set(rt.inFlight);
    });
    next();
  };
}

export function jsonBody(rt: EncoderRuntime): RequestHandler {
  // Any content type: curl -d sends form encoding by default, and the body is JSON either way.
  return express.json({ limit: rt.settings.maxBodyBytes, type: () => true });
}

export function notFound(): RequestHandler {
  return (req, _res, next) => {
    next(
      new ApiError(
        404,
        `no route ${req.method} ${req.path}; the encoder serves POST /v1/embeddings, POST /embed, GET /info, ` +
          "GET /healthz, GET /readyz, GET /metrics",
      ),
    );
  };
}

interface BodyParserError {
  status: number;
  type: string;
  message: string;
  length?: number;
  limit?: number;
}

function isBodyParserError(err: unknown): err is BodyParserError {
  const e = err as Partial<BodyParserError> | null;
  return typeof e?.status === "number" && typeof e.type === "string" && e.status >= 400 && e.status < 500;
}

/** Turn anything thrown into an ApiError; anything not a client error is a 500 (and logged). */
function toApiError(err: unknown, rt: EncoderRuntime, log: Logger): ApiError {
  if (err instanceof ApiError) return err;
  if (isBodyParserError(err)) {
    if (err.type === "entity.too.large") {
      return new ApiError(
        413,
        `the request body is ${err.length ?? "over"} bytes, more than the limit of ${err.limit ?? rt.settings.maxBodyBytes} bytes; send fewer or shorter inputs (or raise --max-body-bytes)`,
        { code: "body_too_large" },
      );
    }
    if (err.type === "entity.parse.failed") {
      return new ApiError(400, `the request body is not valid JSON: ${err.message}`, {
        code: "invalid_json",
      });
    }
    return new ApiError(err.status, `cannot read the request body: ${err.message}`, { code: err.type });
  }
  log.error("request failed", { err });
  return new ApiError(500, "internal error while embedding; the server log has the details", {
    code: "internal_error",
  });
}

function rejectReason(status: number): string {
  if (status === 401) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 413) return "too_large";
  if (status === 429) return "overloaded";
  if (status === 499) return "client_closed";
  if (status === 503) return "not_ready";
  if (status >= 500) return "error";
  return "invalid";
}

export function errorHandler(rt: EncoderRuntime, log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = toApiError(err, rt, log);
    rt.metrics.rejected.inc({ reason: rejectReason(e.status) });
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
    const body = isTeiRoute(req) ? teiErrorBody(e) : openAiErrorBody(e);
    sendJson(rt, res, e.status, JSON.stringify(body));
  };
}
