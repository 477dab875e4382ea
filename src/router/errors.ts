// Every failure the router reports leaves through one error handler with one body shape:
// {"error": {"code", "message", ...details}}. Bad input is always a 4xx that names the field.
import type { ErrorRequestHandler } from "express";
import { z } from "zod";
import type { Logger } from "../util/log.js";

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function badRequest(field: string, message: string): HttpError {
  return new HttpError(400, "invalid_request", `${field}: ${message}`, { field });
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** A zod failure as a 400 whose message starts with the offending field. */
export function fromZod(error: z.ZodError): HttpError {
  const issues = error.issues.map((issue) => {
    let path = fieldPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys.join(", ");
      path = path === "" ? keys : `${path}.${keys}`;
      return { field: path, message: `unknown field (allowed fields are documented in the API reference)` };
    }
    return { field: path === "" ? "(body)" : path, message: issue.message };
  });
  const first = issues[0] ?? { field: "(body)", message: "invalid" };
  const message = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  return new HttpError(400, "invalid_request", message, { field: first.field, issues });
}

/** Body-parser failures carry a `type` and a `status`; map the ones a client can cause. */
function fromBodyParser(err: unknown): HttpError | undefined {
  if (!(err instanceof Error) || !("type" in err)) return undefined;
  const type = err.type;
  if (type === "entity.parse.failed") {
    return new HttpError(400, "invalid_json", `request body is not valid JSON: ${err.message}`, {
      field: "(body)",
    });
  }
  if (type === "entity.too.large") {
    return new HttpError(413, "too_large", "request body is too large; send smaller batches", {
      field: "(body)",
    });
  }
  if (type === "encoding.unsupported" || type === "charset.unsupported") {
    return new HttpError(415, "unsupported_encoding", err.message);
  }
  return undefined;
}

export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof z.ZodError) return fromZod(err);
  return fromBodyParser(err) ?? new HttpError(500, "internal", "internal error in the router; see its log");
}

/** What leaves the router for an error: the status and body, logged the same way on every path. */
export function errorResponse(
  err: unknown,
  log: Logger,
  request: { method: string; path: string },
): { status: number; body: { error: Record<string, unknown> } } {
  const httpErr = toHttpError(err);
  // Upstream outages are expected operational states (warn, no stack); anything else is our bug.
  if (err instanceof HttpError && err.status >= 500) {
    log.warn("request failed", {
      method: request.method,
      path: request.path,
      status: err.status,
      code: err.code,
      message: err.message,
    });
  } else if (httpErr.status >= 500) log.error("request failed", { ...request, err });
  return {
    status: httpErr.status,
    body: { error: { code: httpErr.code, message: httpErr.message, ...httpErr.details } },
  };
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const { status, body } = errorResponse(err, log, { method: req.method, path: req.path });
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}
