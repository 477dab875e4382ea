// POST /embed in text-embeddings-inference's shape. Two deliberate differences from TEI's defaults:
// `truncate` defaults to true here (TEI: false), so a long document embeds its first
// maxSequenceLength tokens instead of failing; send "truncate": false to get TEI's 413 instead.
import type { Express } from "express";
import { embedTexts } from "./embed.js";
import { teiBody } from "./embedding-json.js";
import { clientGone, sendJson } from "./http-util.js";
import { l2Normalize } from "./pooling.js";
import { parseTeiRequest } from "./requests.js";
import type { EncoderRuntime } from "./runtime.js";

export function teiRoutes(app: Express, rt: EncoderRuntime): void {
  app.post("/embed", async (req, res) => {
    const { engine } = rt.serving();
    const request = parseTeiRequest(req.body, {
      dimension: engine.config.dimension,
      maxClientBatchSize: rt.settings.maxClientBatchSize,
    });
    const { rows } = await embedTexts(rt, request.inputs, {
      truncate: request.truncate,
      field: "inputs",
      single: request.single,
      signal: clientGone(res),
    });
    sendJson(rt, res, 200, teiBody(request.normalize ? rows.map(l2Normalize) : rows));
  });
}
