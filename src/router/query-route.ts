// POST /v1/query: text (embedded by the generation's encoder) or a vector, fanned out to every shard.
// runQuery is the whole query after parsing; the express route and the router's node:http fast path
// (query-listener.ts) both call it, so the two paths cannot drift apart.
import { performance } from "node:perf_hooks";
import type { RequestHandler } from "express";
import { badRequest, HttpError } from "./errors.js";
import { fanOut } from "./fan-out.js";
import { mergeTopK } from "./merge.js";
import { parseBody } from "./parse-body.js";
import { type QueryRequest, querySchema } from "./request-schemas.js";
import type { RouterDeps } from "./router-deps.js";
import { FINGERPRINT_HEADER } from "./shard-client.js";
import { decodeVector } from "./vector-codec.js";

/**
 * The answer to a parsed query. `declaredHeader` is the request's fingerprint header; `t0` is when
 * the request arrived (performance.now()), for the reported tookMs.
 */
export async function runQuery(
  deps: RouterDeps,
  q: QueryRequest,
  declaredHeader: string | undefined,
  t0: number,
) {
  const rt = deps.runtime();
  const gen = rt.config.generation;
  let vector: Float32Array;
  if (q.text !== undefined) {
    const [v] = await rt.encoder.embed([q.text], "query", rt.config.timeoutMs);
    vector = v!;
  } else {
    const declared = q.fingerprint ?? declaredHeader;
    if (declared !== undefined && declared !== gen.fingerprint) {
      throw new HttpError(
        409,
        "fingerprint_mismatch",
        `fingerprint: the vector was declared as made by model ${declared}, but index generation ${gen.name} holds vectors of model ${gen.fingerprint}; embed the query with that model (or send text)`,
        { field: "fingerprint", declaredFingerprint: declared, generationFingerprint: gen.fingerprint },
      );
    }
    vector = decodeVector(q.vector!, gen.dimension);
    if (gen.metric === "cosine" && vector.every((x) => x === 0)) {
      throw badRequest("vector", "is the zero vector; cosine similarity is undefined for it");
    }
  }
  const fan = await fanOut(
    rt.shards,
    {
      vector,
      k: q.k,
      ef: q.ef,
      filter: q.filter,
      includeText: q.includeText,
      includeMetadata: q.includeMetadata,
    },
    rt.queryContext,
    q.allowPartial,
  );
  deps.metrics.fanoutDuration.observe({ fingerprint: gen.fingerprint }, fan.ms / 1000);
  const partial = fan.missing.length > 0;
  if (partial) deps.metrics.partialResponses.inc();
  // Shards score higher-is-better for every metric (src/shard/score.ts), so one order merges them all.
  const results = mergeTopK(fan.lists, q.k, "higher");
  return {
    results,
    ...(fan.scoreKind ? { scoreKind: fan.scoreKind } : {}),
    tookMs: Math.round((performance.now() - t0) * 1000) / 1000,
    shards: {
      queried: rt.shards.length,
      answered: fan.lists.length,
      missing: fan.missing.map((m) => m.shard),
      hedged: fan.hedged,
    },
    partial,
    ...(partial ? { missing: fan.missing } : {}),
  };
}

export function queryRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const t0 = performance.now();
    const q = parseBody(querySchema, req);
    res.json(await runQuery(deps, q, req.get(FINGERPRINT_HEADER), t0));
  };
}
