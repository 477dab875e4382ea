import type { Request } from "express";
import type { z } from "zod";
import { fromZod, HttpError } from "./errors.js";

/** The request body checked against a schema; a 400 naming the field otherwise. */
export function parseBody<S extends z.ZodType>(schema: S, req: Request): z.output<S> {
  if (req.body === undefined || !req.is("application/json")) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "(body): send a JSON body with Content-Type: application/json",
      {
        field: "(body)",
      },
    );
  }
  const parsed = schema.safeParse(req.body);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}
