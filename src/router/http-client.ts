// A small HTTP/1.1 client over node:http with a keep-alive Agent. The router's fan-out is on every
// query's critical path; node:http on pooled sockets costs measurably less per call than fetch
// (undici) does, and exposes the abort/timeout semantics the hedging logic needs.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { LeanHttpPool, StaleSocket as LeanStaleSocket } from "./lean-http.js";

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method: "GET" | "POST" | "DELETE" | "PUT";
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  /** Cancels the request (e.g. the losing half of a hedged pair). */
  signal?: AbortSignal;
}

export type FailureReason = "timeout" | "aborted" | "network";

/** A request that produced no HTTP response at all. */
export class RequestFailed extends Error {
  override name = "RequestFailed";
  constructor(
    readonly reason: FailureReason,
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

/** "http://h:1/a?b#c" -> origin "http://h:1", path "/a?b" (what node:http sends; no fragment). */
export function splitUrl(url: string): { origin: string; path: string } {
  let end = url.indexOf("//") + 2;
  while (end < url.length && url[end] !== "/" && url[end] !== "?" && url[end] !== "#") end++;
  const hash = url.indexOf("#", end);
  const path = hash === -1 ? url.slice(end) : url.slice(end, hash);
  return { origin: url.slice(0, end), path: path.startsWith("/") ? path : `/${path}` };
}

interface Target {
  https: boolean;
  hostname: string;
  port: number;
  auth?: string;
}

class StaleSocket extends Error {
  override name = "StaleSocket";
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly httpsAgent: HttpsAgent;
  private readonly origins = new Map<string, Target>();
  private readonly lean = new LeanHttpPool();

  constructor(maxSockets = 64) {
    this.agent = new Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets, keepAliveMsecs: 1000 });
  }

  /**
   * Host, port and path of a URL. The router calls the same few replicas all day: their origins are
   * parsed once (WHATWG URL parsing showed up in the per-query profile), paths are sliced off.
   */
  private target(url: string): Target & { path: string } {
    const { origin, path } = splitUrl(url);
    let o = this.origins.get(origin);
    if (o === undefined) {
      const u = new URL(url);
      const https = u.protocol === "https:";
      o = {
        https,
        // URL keeps IPv6 brackets; node:http wants the bare address.
        hostname: u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname,
        port: u.port === "" ? (https ? 443 : 80) : Number(u.port),
      };
      if (u.username || u.password)
        o.auth = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      if (this.origins.size >= 1024) this.origins.clear();
      this.origins.set(origin, o);
    }
    return { ...o, path };
  }

  /**
   * The same contract as request(), on the lean pooled client (lean-http.ts): for hot, idempotent
   * calls over plain HTTP (shard queries). https goes through request().
   */
  async requestLean(opts: RequestOptions): Promise<HttpResponse> {
    const t = this.target(opts.url);
    if (t.https || t.auth !== undefined) return this.request(opts);
    const target = { origin: `${t.hostname}:${t.port}`, hostname: t.hostname, port: t.port, path: t.path };
    try {
      return await this.lean.attempt(target, opts);
    } catch (err) {
      // As in request(): a pooled socket the server closed at its keep-alive timeout.
      if (err instanceof LeanStaleSocket) return this.lean.attempt(target, opts);
      throw err;
    }
  }

  async request(opts: RequestOptions): Promise<HttpResponse> {
    try {
      return await this.attempt(opts);
    } catch (err) {
      // A pooled socket the server closed at its keep-alive timeout fails on first write with
      // ECONNRESET; the request never reached the server, so one retry on a fresh socket is safe.
      if (err instanceof StaleSocket) return this.attempt(opts);
      throw err;
    }
  }

  private attempt(opts: RequestOptions): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const target = this.target(opts.url);
      const isHttps = target.https;
      const headers: Record<string, string | number> = { ...opts.headers };
      if (opts.body !== undefined) headers["content-length"] = Buffer.byteLength(opts.body);
      let settled = false;
      const fail = (reason: FailureReason, message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        req.destroy();
        reject(new RequestFailed(reason, opts.url, message));
      };
      const onAbort = () => fail("aborted", `${opts.method} ${opts.url} was cancelled`);
      const timer = setTimeout(
        () => fail("timeout", `${opts.method} ${opts.url} did not answer within ${opts.timeoutMs} ms`),
        opts.timeoutMs,
      );
      const req = (isHttps ? httpsRequest : httpRequest)(
        {
          hostname: target.hostname,
          port: target.port,
          path: target.path,
          auth: target.auth,
          method: opts.method,
          headers,
          agent: isHttps ? this.httpsAgent : this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (err) => fail("network", `${opts.method} ${opts.url}: ${err.message}`));
          res.on("end", () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            opts.signal?.removeEventListener("abort", onAbort);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (!settled && req.reusedSocket && (err.code === "ECONNRESET" || err.code === "EPIPE")) {
          settled = true;
          clearTimeout(timer);
          opts.signal?.removeEventListener("abort", onAbort);
          reject(new StaleSocket(err.message));
          return;
        }
        fail("network", `${opts.method} ${opts.url}: ${err.message}`);
      });
      if (opts.signal?.aborted) {
        onAbort();
        return;
      }
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      req.end(opts.body);
    });
  }

  close(): void {
    this.lean.close();
    this.agent.destroy();
    this.httpsAgent.destroy();
  }
}

/** The JSON body of a response, or undefined when it is not JSON. */
export function jsonBody(res: HttpResponse): unknown {
  try {
    return JSON.parse(res.body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A readable one-line summary of an error response body, for messages that name the upstream. */
export function errorText(res: HttpResponse): string {
  const body = jsonBody(res);
  if (typeof body === "object" && body !== null) {
    const e = (body as { error?: unknown }).error;
    if (typeof e === "string") return e;
    if (typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string") {
      return (e as { message: string }).message;
    }
  }
  const text = res.body.toString("utf8").trim();
  return text.length > 300 ? `${text.slice(0, 300)}...` : text || `HTTP ${res.status}`;
}
