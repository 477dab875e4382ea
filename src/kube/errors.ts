// Reading API errors: @kubernetes/client-node 1.x throws ApiException with the HTTP code; the
// codes decide control flow (404 gone, 409 lost a race), so they get names.
import { ApiException } from "@kubernetes/client-node";

export function statusCodeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === "object" && err !== null) {
    const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
    if (typeof code === "number") return code;
    if (typeof statusCode === "number") return statusCode;
  }
  return undefined;
}

export const isNotFound = (err: unknown): boolean => statusCodeOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusCodeOf(err) === 409;
export const isGone = (err: unknown): boolean => statusCodeOf(err) === 410;

/** One line for a log or a thrown Error: the API server's own message when it sent one. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | string | undefined;
    const message =
      typeof body === "object" && body !== null && typeof body.message === "string"
        ? body.message
        : String(body);
    return `HTTP ${err.code}: ${message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
