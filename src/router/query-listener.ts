// The router's request listener. POST /v1/query is every search's front door, so its plain form (a
// JSON body of known length, no compression) is served by node:http directly: no express routing or
// body-parser, and a hand check before zod (query-request-fast.ts). Everything else goes to the
// express app. Both paths share the API-key check, runQuery, the error bodies and the metrics.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { apiKeyRefusal } from "./api-keys.js";
import { createApp } from "./app.js";
import { errorResponse, fromZod, HttpError } from "./errors.js";
import { fastQueryRequest } from "./query-request-fast.js";
import { answeredBy, runQuery } from "./query-route.js";
import { type QueryRequest, querySchema } from "./request-schemas.js";
import type { RouterDeps } from "./router-deps.js";
import { FINGERPRINT_HEADER } from "./shard-client.js";

/** express.json's limit on this route. */
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;
const ROUTE = "/v1/query";

/** `application/json`, optionally with `charset=utf-8`: what the fast path decodes like body-parser. */
export function isPlainJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const parts = contentType.split(";");
  if ((parts[0] ?? "").trim().toLowerCase() !== "application/json") return false;
  for (let i = 1; i < parts.length; i++) {
    const p = (parts[i] ?? "")
      .trim()
      .toLowerCase()
      .replace(/\s*=\s*/, "=");
    if (p !== "charset=utf-8" && p !== 'charset="utf-8"') return false;
  }
  return true;
}

function isFastQuery(req: IncomingMessage): boolean {
  if (req.method !== "POST" || req.url !== ROUTE) return false;
  const h = req.headers;
  if (!isPlainJson(h["content-type"]) || h["content-encoding"] !== undefined) return false;
  const length = h["content-length"];
  return (
    length !== undefined && /^\d+$/.test(length) && Number(length) > 0 && Number(length) <= BODY_LIMIT_BYTES
  );
}

/** body-parser's strict JSON: an object or array at the top, else 400 invalid_json. */
function parseJsonBody(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const first = /\S/.exec(body)?.[0];
  try {
    if (first !== "{" && first !== "[")
      throw new SyntaxError(`expected an object, got ${first ? `"${first}"` : "nothing"}`);
    return JSON.parse(body);
  } catch (err) {
    throw new HttpError(400, "invalid_json", `request body is not valid JSON: ${(err as Error).message}`, {
      field: "(body)",
    });
  }
}

function parseQuery(body: unknown): QueryRequest {
  const fast = fastQueryRequest(body);
  if (fast) return fast;
  const parsed = querySchema.safeParse(body);
  if (!parsed.success) throw fromZod(parsed.error);
  return parsed.data;
}

export function createRouterListener(deps: RouterDeps): RequestListener {
  const app = createApp(deps);

  /** `by`: the generation that answered, or for an error the active one. */
  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    by: { generation: string; fingerprint: string },
    t0: number,
  ) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      ...(status === 200 ? answeredBy(by) : { [FINGERPRINT_HEADER]: by.fingerprint }),
    });
    res.end(text);
    deps.metrics.requestDuration.observe(
      { route: ROUTE, status: String(status), fingerprint: by.fingerprint, generation: by.generation },
      (performance.now() - t0) / 1000,
    );
  };

  const answer = async (req: IncomingMessage, text: string, t0: number) => {
    const q = parseQuery(parseJsonBody(text));
    const declared = req.headers[FINGERPRINT_HEADER];
    return runQuery(deps, q, typeof declared === "string" ? declared : undefined, t0);
  };

  return (req, res) => {
    if (!isFastQuery(req)) {
      app(req, res);
      return;
    }
    const t0 = performance.now();
    const rt = deps.runtime();
    const active = { generation: rt.active.name, fingerprint: rt.active.fingerprint };
    const fail = (err: unknown) => {
      const { status, body } = errorResponse(err, deps.log, { method: "POST", path: ROUTE });
      if (!res.headersSent) send(res, status, body, active, t0);
    };
    const h = req.headers;
    const refusal = apiKeyRefusal(
      rt.config.apiKeys,
      h.authorization,
      typeof h["x-api-key"] === "string" ? h["x-api-key"] : undefined,
    );
    if (refusal) {
      fail(refusal);
      return;
    }
    // node's parser delivers exactly Content-Length bytes before "end" (a short body is an error).
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)).toString("utf8");
      answer(req, text, t0).then((body) => send(res, 200, body, body, t0), fail);
    });
    // A client that went away mid-body: nothing to answer.
    req.on("error", () => res.destroy());
  };
}
