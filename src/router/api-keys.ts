// Optional API keys for the data routes. Presented keys are hashed before a constant-time compare so
// neither the key's length nor the position of a match leaks through timing.
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { HttpError } from "./errors.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** The 401 for a request whose key (Authorization: Bearer, or X-Api-Key) is not allowed; undefined when it may pass. */
export function apiKeyRefusal(
  allowed: readonly string[] | undefined,
  authorization: string | undefined,
  xApiKey: string | undefined,
): HttpError | undefined {
  if (!allowed || allowed.length === 0) return undefined;
  const presented = authorization?.startsWith("Bearer ") ? authorization.slice(7) : xApiKey;
  if (presented !== undefined) {
    const p = digest(presented);
    let ok = false;
    for (const k of allowed) ok = timingSafeEqual(p, digest(k)) || ok;
    if (ok) return undefined;
  }
  return new HttpError(
    401,
    "unauthorized",
    "send a valid API key as 'Authorization: Bearer KEY' (or 'X-Api-Key: KEY')",
  );
}

export function apiKeyGuard(keys: () => readonly string[] | undefined): RequestHandler {
  return (req, _res, next) => {
    next(apiKeyRefusal(keys(), req.get("authorization"), req.get("x-api-key")));
  };
}
