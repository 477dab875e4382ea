// The backfill's calls to shard replicas: scan N, write N+1 with ifAbsent, read and write the
// progress record. JSON bodies for everything but points (binary: no per-number JSON), every call
// declaring its generation's fingerprint so a replica of the other generation refuses (409).
import type { HttpClient, HttpResponse } from "../router/http-client.js";
import {
  encodePoints,
  FINGERPRINT_HEADER,
  POINTS_CONTENT_TYPE,
  type ShardPoint,
} from "../router/shard-client.js";
import { UpstreamError } from "../router/upstream-error.js";
import type { ScanPage } from "./cursor.js";

export const CALL_TIMEOUT_MS = 30_000;

function json(url: string, res: HttpResponse): Record<string, unknown> {
  try {
    const body = JSON.parse(res.body.toString("utf8")) as unknown;
    if (typeof body === "object" && body !== null) return body as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new UpstreamError(url, 502, `status ${res.status} without a JSON object`);
}

export class GenerationShards {
  constructor(
    private readonly http: HttpClient,
    readonly fingerprint: string,
  ) {}

  private headers(contentType?: string): Record<string, string> {
    const h: Record<string, string> = { [FINGERPRINT_HEADER]: this.fingerprint, accept: "application/json" };
    if (contentType) h["content-type"] = contentType;
    return h;
  }

  private async call(
    method: "GET" | "POST" | "PUT",
    url: string,
    body?: Buffer | string,
    contentType?: string,
  ): Promise<HttpResponse> {
    return this.http.request({
      method,
      url,
      headers: this.headers(contentType),
      ...(body !== undefined ? { body } : {}),
      timeoutMs: CALL_TIMEOUT_MS,
    });
  }

  async scan(replica: string, afterSeq: number, limit: number): Promise<ScanPage> {
    const url = `${replica}/v1/scan?afterSeq=${afterSeq}&limit=${limit}`;
    const res = await this.call("GET", url);
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = json(url, res);
    if (
      !Array.isArray(body.items) ||
      typeof body.nextAfterSeq !== "number" ||
      typeof body.lastSeq !== "number"
    )
      throw new UpstreamError(url, 502, "not a scan page (items, nextAfterSeq, lastSeq)");
    return body as unknown as ScanPage;
  }

  async stats(replica: string): Promise<{ count: number; fingerprint: string | undefined }> {
    const url = `${replica}/v1/stats`;
    const res = await this.call("GET", url);
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = json(url, res);
    if (typeof body.count !== "number") throw new UpstreamError(url, 502, "stats without count");
    return {
      count: body.count,
      fingerprint: typeof body.fingerprint === "string" ? body.fingerprint : undefined,
    };
  }

  /** POST /v1/points?ifAbsent=true: ids the replica has any row for (live or deleted) are skipped. */
  async upsertIfAbsent(
    replica: string,
    points: readonly ShardPoint[],
  ): Promise<{ upserted: number; skipped: number }> {
    const url = `${replica}/v1/points?ifAbsent=true`;
    const res = await this.call("POST", url, encodePoints(points), POINTS_CONTENT_TYPE);
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = json(url, res);
    return {
      upserted: typeof body.upserted === "number" ? body.upserted : 0,
      skipped: typeof body.skipped === "number" ? body.skipped : 0,
    };
  }

  /** The value under `key`, or undefined when unset (404). */
  async getMeta(replica: string, key: string): Promise<unknown> {
    const url = `${replica}/v1/meta/${encodeURIComponent(key)}`;
    const res = await this.call("GET", url);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw UpstreamError.from(url, res);
    return json(url, res).value;
  }

  async putMeta(replica: string, key: string, value: unknown): Promise<void> {
    const url = `${replica}/v1/meta/${encodeURIComponent(key)}`;
    const res = await this.call("PUT", url, JSON.stringify({ value }), "application/json");
    if (res.status !== 200) throw UpstreamError.from(url, res);
  }
}
