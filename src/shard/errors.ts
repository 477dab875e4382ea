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

/**
 * A start-up refusal: the data directory belongs to another generation, or is in use. The CLI turns
 * it into a usage error (exit 2) because only the operator can fix it, by changing flags or the dir.
 */
export class ShardConfigError extends Error {
  override name = "ShardConfigError";
}
