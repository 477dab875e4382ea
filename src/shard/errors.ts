// Errors that carry an HTTP status, so the one central error handler can answer 4xx for bad input
// (naming the offending field) and keep 5xx for our own bugs.

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** 400 naming the field: the message starts with the field so a client can find it at a glance. */
export function badRequest(field: string, message: string): HttpError {
  return new HttpError(400, `${field}: ${message}`, field);
}

/** The status and JSON body of an error: HttpErrors as they are, body-parser 4xx by type, else 500. */
export function describeError(err: unknown): { status: number; message: string; field?: string | undefined } {
  if (err instanceof HttpError) return { status: err.status, message: err.message, field: err.field };
  // body-parser errors carry a 4xx status and a `type` (entity.parse.failed, entity.too.large, ...).
  const e = err as { status?: unknown; type?: unknown; message?: unknown };
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) {
    const msg = typeof e.message === "string" ? e.message : "bad request";
    if (e.type === "entity.parse.failed")
      return { status: 400, message: `body: invalid JSON (${msg})`, field: "body" };
    return { status: e.status, message: msg };
  }
  return { status: 500, message: "internal error (logged on the shard)" };
}

/**
 * A start-up refusal: the data directory belongs to another generation, or is in use. The CLI turns
 * it into a usage error (exit 2) because only the operator can fix it, by changing flags or the dir.
 */
export class ShardConfigError extends Error {
  override name = "ShardConfigError";
}
