// The recall gate's I/O: embed each golden query with a generation's own encoder (as a query, so
// with its query prefix), ask every shard of that generation (one live replica each) for its top k,
// merge, and hand the lists to gateVerdict (recall.ts), which decides. N+1 is asked twice per query
// (graph walk, then exact: true); N once, and only when some golden query lists relevant ids.
//
// Any failed call fails the run with an error naming the generation and the shard: a gate that
// passed on the shards that happened to answer would vouch for an index it never looked at.
import { EncoderClient, type EncoderInfo, withPrefix } from "../router/encoder-client.js";
import { type HttpClient, jsonBody } from "../router/http-client.js";
import { mergeTopK, type ShardHit } from "../router/merge.js";
import { FINGERPRINT_HEADER } from "../router/shard-client.js";
import { UpstreamError } from "../router/upstream-error.js";
import { float32ToLeBytes } from "../router/vector-codec.js";
import type { GoldenQuery } from "./golden-set.js";
import { exactIdsWithTies, type GateVerdict, type GoldenQueryResults, gateVerdict } from "./recall.js";

export interface GateGeneration {
  /** The generation's name (g-…), for messages. */
  name: string;
  /** The model fingerprint its encoder and shards must report. */
  fingerprint: string;
  encoderUrl: string;
  /** Bearer key for a protected encoder. */
  encoderApiKey?: string | undefined;
  shards: readonly { name: string; replicas: readonly string[] }[];
}

export interface RecallGateInput {
  golden: readonly GoldenQuery[];
  k: number;
  minRecall: number;
  /** See recall.ts; default 0.05. */
  tolerance?: number | undefined;
  /** N: the generation serving now. Needed only when a golden query lists relevant ids. */
  current?: GateGeneration | undefined;
  /** N+1: the generation to be gated. */
  candidate: GateGeneration;
  http: HttpClient;
  /** Golden queries in flight at once (each is 2-3 fan-outs); default 4. */
  concurrency?: number;
  /** Budget for one golden query: its embeddings and every shard call; default 30 s. */
  queryTimeoutMs?: number;
}

export const gateDefaults = { concurrency: 4, queryTimeoutMs: 30_000 };
/** Exact search asks for a few more than k so that a tie at the k-th place is visible. */
const tieMargin = 5;
const maxK = 1000;

export class RecallGateError extends Error {
  override name = "RecallGateError";
  constructor(
    readonly generation: string,
    readonly shard: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

interface Prepared {
  gen: GateGeneration;
  encoder: EncoderClient;
  info: EncoderInfo;
  /** One live replica per shard. */
  replicas: { shard: string; url: string }[];
}

/** Runs the gate; resolves to the verdict, rejects with RecallGateError when it could not measure. */
export async function runRecallGate(input: RecallGateInput): Promise<GateVerdict> {
  const { golden, k, http } = input;
  const names = { n: input.current?.name ?? "N", n1: input.candidate.name };
  if (golden.length === 0)
    return gateVerdict({ k, minRecall: input.minRecall, tolerance: input.tolerance, perQuery: [], names });
  const needN = golden.some((q) => q.relevant.length > 0);
  if (needN && !input.current)
    throw new RecallGateError(
      names.n1,
      undefined,
      "the golden set lists relevant ids, so the gate needs the current generation to compare with; none was given",
    );
  const timeoutMs = input.queryTimeoutMs ?? gateDefaults.queryTimeoutMs;
  const [n1, n] = await Promise.all([
    prepare(http, input.candidate, timeoutMs),
    needN && input.current ? prepare(http, input.current, timeoutMs) : undefined,
  ]);
  const exactK = Math.min(maxK, k + tieMargin);

  const one = async (q: GoldenQuery): Promise<GoldenQueryResults> => {
    const deadline = Date.now() + timeoutMs;
    const [vN1, vN] = await Promise.all([
      embed(n1, q.query, deadline),
      n && q.relevant.length > 0 ? embed(n, q.query, deadline) : undefined,
    ]);
    const [ann, exact, resultsN] = await Promise.all([
      search(http, n1, vN1, k, false, deadline),
      search(http, n1, vN1, exactK, true, deadline),
      n && vN ? search(http, n, vN, k, false, deadline) : undefined,
    ]);
    return {
      query: q.query,
      annN1: ann.map((h) => h.id),
      exactN1: exactIdsWithTies(ann, exact, k),
      resultsN: resultsN?.map((h) => h.id),
      relevant: q.relevant,
    };
  };

  const perQuery = await pool(golden, input.concurrency ?? gateDefaults.concurrency, one);
  return gateVerdict({ k, minRecall: input.minRecall, tolerance: input.tolerance, perQuery, names });
}

/** Checks the encoder serves the generation's model and picks one ready replica per shard. */
async function prepare(http: HttpClient, gen: GateGeneration, timeoutMs: number): Promise<Prepared> {
  const encoder = new EncoderClient(http, gen.encoderUrl, gen.encoderApiKey);
  let info: EncoderInfo;
  try {
    info = await encoder.info(timeoutMs);
  } catch (err) {
    throw new RecallGateError(
      gen.name,
      undefined,
      `generation ${gen.name}: its encoder ${gen.encoderUrl} did not answer /info: ${(err as Error).message}`,
    );
  }
  if (info.fingerprint !== gen.fingerprint)
    throw new RecallGateError(
      gen.name,
      undefined,
      `generation ${gen.name}: its encoder ${gen.encoderUrl} serves model fingerprint ${info.fingerprint}, the generation's is ${gen.fingerprint}`,
    );
  if (gen.shards.length === 0)
    throw new RecallGateError(gen.name, undefined, `generation ${gen.name} lists no shards`);
  const replicas = await Promise.all(
    gen.shards.map(async (s) => {
      const reasons: string[] = [];
      for (const url of s.replicas) {
        try {
          const res = await http.request({ method: "GET", url: `${url}/readyz`, timeoutMs });
          if (res.status === 200) return { shard: s.name, url };
          reasons.push(`${url}: /readyz answered ${res.status}`);
        } catch (err) {
          reasons.push(`${url}: ${(err as Error).message}`);
        }
      }
      throw new RecallGateError(
        gen.name,
        s.name,
        `generation ${gen.name}, shard ${s.name}: no live replica (${reasons.join("; ") || "none listed"})`,
      );
    }),
  );
  return { gen, encoder, info, replicas };
}

function remaining(deadline: number, gen: GateGeneration, what: string): number {
  const ms = deadline - Date.now();
  if (ms < 1)
    throw new RecallGateError(
      gen.name,
      undefined,
      `generation ${gen.name}: ${what}: the golden query ran out of time`,
    );
  return ms;
}

async function embed(p: Prepared, text: string, deadline: number): Promise<Float32Array> {
  try {
    const [v] = await p.encoder.embed(
      [withPrefix(p.info, "query", text)],
      p.gen.fingerprint,
      remaining(deadline, p.gen, "embedding"),
    );
    if (!v) throw new Error("no embedding returned");
    return v;
  } catch (err) {
    if (err instanceof RecallGateError) throw err;
    throw new RecallGateError(
      p.gen.name,
      undefined,
      `generation ${p.gen.name}: embedding a golden query failed: ${(err as Error).message}`,
    );
  }
}

/** Top `k` over every shard of the generation, merged by score (higher is better on every metric). */
async function search(
  http: HttpClient,
  p: Prepared,
  vector: Float32Array,
  k: number,
  exact: boolean,
  deadline: number,
): Promise<ShardHit[]> {
  const body = float32ToLeBytes(vector);
  const lists = await Promise.all(
    p.replicas.map(async ({ shard, url: replica }) => {
      const url = `${replica}/v1/query?k=${k}&includeText=false&includeMetadata=false${exact ? "&exact=true" : ""}`;
      const what = `shard ${shard} (${replica}) ${exact ? "exact" : "ANN"} search`;
      try {
        const res = await http.request({
          method: "POST",
          url,
          headers: {
            "content-type": "application/octet-stream",
            accept: "application/json",
            [FINGERPRINT_HEADER]: p.gen.fingerprint,
          },
          body,
          timeoutMs: remaining(deadline, p.gen, what),
        });
        if (res.status !== 200) throw UpstreamError.from(url, res);
        const results = (jsonBody(res) as { results?: unknown } | undefined)?.results;
        if (!Array.isArray(results)) throw new UpstreamError(url, 502, "response has no results list");
        return { shard, results: results as ShardHit[] };
      } catch (err) {
        if (err instanceof RecallGateError) throw err;
        throw new RecallGateError(
          p.gen.name,
          shard,
          `generation ${p.gen.name}: ${what} failed: ${(err as Error).message}`,
        );
      }
    }),
  );
  return mergeTopK(lists, k, "higher");
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order; the first failure rejects. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i] as T);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
