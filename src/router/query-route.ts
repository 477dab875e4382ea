// POST /v1/query: text (embedded by the answering generation's encoder) or a vector, fanned out to
// every shard of exactly one generation (index-runtime.ts chooses it). runQuery is the whole query
// after parsing; the express route and the router's node:http fast path (query-listener.ts) both
// call it, so the two paths cannot drift apart. The answer names its generation and fingerprint in
// the body and in the headers of answeredBy(), so a client can see which model's vectors it got.
import { performance } from "node:perf_hooks";
import type { RequestHandler } from "express";
import { badRequest } from "./errors.js";
import { fanOut } from "./fan-out.js";
import { mergeTopK } from "./merge.js";
import { parseBody } from "./parse-body.js";
import { type QueryRequest, querySchema } from "./request-schemas.js";
import type { RouterDeps } from "./router-deps.js";
import { FINGERPRINT_HEADER } from "./shard-client.js";
import { decodeVector } from "./vector-codec.js";

/** The answering generation's name; the fingerprint goes in FINGERPRINT_HEADER. */
export const GENERATION_HEADER = "x-embedops-generation";

/** The response headers that say which generation answered. */
export function answeredBy(body: { generation: string; fingerprint: string }): Record<string, string> {
  return { [GENERATION_HEADER]: body.generation, [FINGERPRINT_HEADER]: body.fingerprint };
}

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
  const index = deps.runtime();
  const rt = q.text !== undefined ? index.forText() : index.forVector(q.fingerprint ?? declaredHeader);
  const gen = rt.generation;
  let vector: Float32Array;
  if (q.text !== undefined) {
    const [v] = await rt.encoder.embed([q.text], "query", rt.config.timeoutMs);
    vector = v!;
  } else {
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
  deps.metrics.fanoutDuration.observe({ fingerprint: gen.fingerprint, generation: gen.name }, fan.ms / 1000);
  const partial = fan.missing.length > 0;
  if (partial) deps.metrics.partialResponses.inc();
  // Shards score higher-is-better for every metric (src/shard/score.ts), so one order merges them all.
  const results = mergeTopK(fan.lists, q.k, "higher");
  return {
    generation: gen.name,
    fingerprint: gen.fingerprint,
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
    const body = await runQuery(deps, q, req.get(FINGERPRINT_HEADER), t0);
    res.locals.generation = body.generation;
    res.locals.fingerprint = body.fingerprint;
    res.set(answeredBy(body)).json(body);
  };
}
