// The shard's request listener. POST /v1/query with an octet-stream vector is the call the router
// makes to every shard for every query, so it is served by node:http directly: no express routing,
// body-parser or ETag hashing on the hot path (measured on the bench machine: a bare node:http round
// trip costs about half of an express one). Every other request, and any octet-stream query that is
// not the plain case (compressed body, unknown length), goes to the express app with the same
// semantics: fingerprint header, 409/503/400/413 bodies and the request-duration metric.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { parse as parseQueryString } from "node:querystring";
import type { Logger } from "../util/log.js";
import { bodyLimitBytes, createShardApp, fingerprintHeader, fingerprintRefusal, notReady } from "./app.js";
import { describeError, HttpError } from "./errors.js";
import type { Shard } from "./shard.js";
import { decodeBinaryQuery, decodeBinaryQueryFast } from "./wire.js";

const fingerprintHeaderLower = fingerprintHeader.toLowerCase();

/** True for `application/octet-stream`, with or without parameters, in any letter case. */
export function isOctetStream(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semi = contentType.indexOf(";");
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === "application/octet-stream";
}

/** Whether a request is the plain binary query the fast path serves (decided from headers only). */
function isFastQuery(req: IncomingMessage, path: string): boolean {
  if (req.method !== "POST" || path !== "/v1/query") return false;
  const h = req.headers;
  if (!isOctetStream(h["content-type"]) || h["content-encoding"] !== undefined) return false;
  const length = h["content-length"];
  return length !== undefined && /^\d+$/.test(length);
}

export function createShardListener(shard: Shard, log: Logger): RequestListener {
  const app = createShardApp(shard, log);
  const { fingerprint, dimension, metric } = shard.config;

  const send = (res: ServerResponse, status: number, body: unknown, started: bigint) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      [fingerprintHeader]: fingerprint,
    });
    res.end(text);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    shard.metrics.requestDuration.observe(
      { route: "/v1/query", method: "POST", status: String(status) },
      seconds,
    );
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown, started: bigint) => {
    const { status, message, field } = describeError(err);
    if (status >= 500) log.error("request failed", { method: req.method, path: "/v1/query", err });
    if (res.headersSent) return;
    send(res, status, field ? { error: message, field } : { error: message }, started);
  };

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    search: string,
    body: Buffer,
    started: bigint,
  ) => {
    try {
      const params = parseQueryString(search);
      const q =
        decodeBinaryQueryFast(body, params, dimension, metric) ??
        decodeBinaryQuery(body, params, dimension, metric);
      send(res, 200, shard.query(q), started);
    } catch (err) {
      fail(req, res, err, started);
    }
  };

  return (req, res) => {
    const url = req.url ?? "";
    const qmark = url.indexOf("?");
    const path = qmark === -1 ? url : url.slice(0, qmark);
    if (!isFastQuery(req, path)) {
      app(req, res);
      return;
    }
    const started = process.hrtime.bigint();
    const declared = req.headers[fingerprintHeaderLower];
    const refusal =
      fingerprintRefusal(typeof declared === "string" ? declared : undefined, fingerprint) ??
      (shard.ready ? undefined : notReady());
    if (refusal) {
      fail(req, res, refusal, started);
      return;
    }
    const length = Number(req.headers["content-length"]);
    if (length > bodyLimitBytes) {
      fail(req, res, new HttpError(413, "request entity too large"), started);
      return;
    }
    const search = qmark === -1 ? "" : url.slice(qmark + 1);
    // node's parser delivers exactly Content-Length bytes before "end" (a short body is an error).
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      answer(req, res, search, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks), started);
    });
    // A client that went away mid-body: nothing to answer.
    req.on("error", () => res.destroy());
  };
}
