// POST /v1/embeddings in OpenAI's shape (also at /embeddings for clients whose base URL lacks /v1).
// Vectors are normalised when the model's config says so; over-length inputs are truncated, since
// OpenAI's API has no truncate switch.
import type { Express, Request, Response } from "express";
import { embedTexts } from "./embed.js";
import { openAiBody } from "./embedding-json.js";
import { clientGone, sendJson } from "./http-util.js";
import { l2Normalize } from "./pooling.js";
import { parseOpenAiRequest } from "./requests.js";
import type { EncoderRuntime } from "./runtime.js";

export function openAiRoutes(app: Express, rt: EncoderRuntime): void {
  const handler = async (req: Request, res: Response) => {
    const { engine } = rt.serving();
    const config = engine.config;
    const request = parseOpenAiRequest(req.body, {
      dimension: config.dimension,
      maxClientBatchSize: rt.settings.maxClientBatchSize,
    });
    const { rows, tokens } = await embedTexts(rt, request.inputs, {
      truncate: true,
      field: "input",
      single: request.single,
      signal: clientGone(res),
    });
    const vectors = config.normalize ? rows.map(l2Normalize) : rows;
    sendJson(rt, res, 200, openAiBody(vectors, request.encodingFormat, config.name, tokens));
  };
  app.post("/v1/embeddings", handler);
  app.post("/embeddings", handler);
}
