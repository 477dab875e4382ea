// Optional API keys for the data routes. Presented keys are hashed before a constant-time compare so
// neither the key's length nor the position of a match leaks through timing.
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";
import { HttpError } from "./errors.js";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function apiKeyGuard(keys: () => readonly string[] | undefined): RequestHandler {
  return (req, _res, next) => {
    const allowed = keys();
    if (!allowed || allowed.length === 0) return next();
    const auth = req.get("authorization");
    const presented = auth?.startsWith("Bearer ") ? auth.slice(7) : req.get("x-api-key");
    if (presented !== undefined) {
      const p = digest(presented);
      let ok = false;
      for (const k of allowed) ok = timingSafeEqual(p, digest(k)) || ok;
      if (ok) return next();
    }
    next(
      new HttpError(
        401,
        "unauthorized",
        "send a valid API key as 'Authorization: Bearer KEY' (or 'X-Api-Key: KEY')",
      ),
    );
  };
}
