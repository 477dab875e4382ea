// Calls to one shard replica's HTTP API. Vectors go as little-endian float32 bytes (binary upsert,
// octet-stream query): no per-number JSON on the hot path. Every call declares the generation's model
// fingerprint, so a replica of another generation refuses (409) instead of comparing foreign vectors.
import { type HttpClient, jsonBody } from "./http-client.js";
import type { ShardHit } from "./merge.js";
import type { SyncView } from "./replica-repair.js";
import { UpstreamError } from "./upstream-error.js";
import { float32ToLeBytes } from "./vector-codec.js";

export const FINGERPRINT_HEADER = "x-embedops-model-fingerprint";
export const POINTS_CONTENT_TYPE = "application/x-embedops-points";

export interface ShardQuery {
  vector: Float32Array;
  k: number;
  ef?: number | undefined;
  filter?: Record<string, unknown> | undefined;
  includeText: boolean;
  includeMetadata: boolean;
}

export interface ShardQueryResult {
  results: ShardHit[];
  tookMs: number;
  /** The score's scale (e.g. cosine_similarity); always higher-is-better. */
  scoreKind: string | undefined;
}

export interface ShardPoint {
  id: string;
  vector: Float32Array;
  metadata?: Record<string, unknown> | undefined;
  text?: string | undefined;
}

/** What a replica's write answer says about its seqs (src/shard/shard.ts upsert/delete). */
export interface WriteAck {
  /**
   * The replica's seq before this write, or a lower bound of it: an upsert of N applied points takes
   * exactly N seqs (lastSeq - upserted); a delete takes one per live or unknown id but none for an id
   * already deleted, so lastSeq - deleted - notFound may be lower. Undefined when the answer lacks it.
   */
  seqBefore: number | undefined;
}

function writeAck(body: unknown, took: readonly string[]): WriteAck {
  if (typeof body !== "object" || body === null) return { seqBefore: undefined };
  const b = body as Record<string, unknown>;
  const last = b.lastSeq;
  if (typeof last !== "number" || !Number.isSafeInteger(last)) return { seqBefore: undefined };
  let n = 0;
  for (const k of took) {
    const v = b[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return { seqBefore: undefined };
    n += v;
  }
  return { seqBefore: Math.max(0, last - n) };
}

/** A replica's /readyz: 200 or not, and whether a catch-up runs on it (it may lack rows). */
export interface Readiness {
  ok: boolean;
  syncing: boolean;
}

export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The binary upsert body: uint32 LE header length, header JSON, then N×dim float32 LE. */
export function encodePoints(points: readonly ShardPoint[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({ points: points.map((p) => ({ id: p.id, metadata: p.metadata, text: p.text })) }),
    "utf8",
  );
  const dim = points[0]?.vector.length ?? 0;
  const out = Buffer.allocUnsafe(4 + header.byteLength + points.length * dim * 4);
  out.writeUInt32LE(header.byteLength, 0);
  header.copy(out, 4);
  let at = 4 + header.byteLength;
  for (const p of points) {
    float32ToLeBytes(p.vector).copy(out, at);
    at += dim * 4;
  }
  return out;
}

function isHitList(value: unknown): value is ShardHit[] {
  if (!Array.isArray(value)) return false;
  for (const h of value) if (typeof h?.id !== "string" || typeof h?.score !== "number") return false;
  return true;
}

/** The octet-stream query's options as the shard reads them (node:querystring decoding). */
export function queryString(q: Omit<ShardQuery, "vector">): string {
  let s = `k=${q.k}&includeText=${q.includeText}&includeMetadata=${q.includeMetadata}`;
  if (q.ef !== undefined) s += `&ef=${q.ef}`;
  if (q.filter !== undefined && Object.keys(q.filter).length > 0)
    s += `&filter=${encodeURIComponent(JSON.stringify(q.filter))}`;
  return s;
}

export class ShardClient {
  /** The same for every query: built once, not per call. */
  private readonly queryHeaders: Record<string, string>;

  constructor(
    private readonly http: HttpClient,
    private readonly fingerprint: string,
  ) {
    this.queryHeaders = this.headers("application/octet-stream");
  }

  private headers(contentType?: string): Record<string, string> {
    const h: Record<string, string> = { [FINGERPRINT_HEADER]: this.fingerprint, accept: "application/json" };
    if (contentType) h["content-type"] = contentType;
    return h;
  }

  async query(replica: string, q: ShardQuery, opts: CallOptions): Promise<ShardQueryResult> {
    const url = `${replica}/v1/query?${queryString(q)}`;
    const res = await this.http.requestLean({
      method: "POST",
      url,
      headers: this.queryHeaders,
      body: float32ToLeBytes(q.vector),
      ...opts,
    });
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = jsonBody(res) as { results?: unknown; tookMs?: unknown; scoreKind?: unknown } | undefined;
    if (!isHitList(body?.results)) throw new UpstreamError(url, 502, "response has no results list");
    return {
      results: body.results,
      tookMs: typeof body.tookMs === "number" ? body.tookMs : 0,
      scoreKind: typeof body.scoreKind === "string" ? body.scoreKind : undefined,
    };
  }

  async upsert(replica: string, points: readonly ShardPoint[], opts: CallOptions): Promise<WriteAck> {
    const url = `${replica}/v1/points`;
    const res = await this.http.request({
      method: "POST",
      url,
      headers: this.headers(POINTS_CONTENT_TYPE),
      body: encodePoints(points),
      ...opts,
    });
    if (res.status < 200 || res.status >= 300) throw UpstreamError.from(url, res);
    return writeAck(jsonBody(res), ["upserted"]);
  }

  async delete(replica: string, ids: readonly string[], opts: CallOptions): Promise<WriteAck> {
    const url = `${replica}/v1/points/delete`;
    const res = await this.http.request({
      method: "POST",
      url,
      headers: this.headers("application/json"),
      body: JSON.stringify({ ids }),
      ...opts,
    });
    if (res.status < 200 || res.status >= 300) throw UpstreamError.from(url, res);
    return writeAck(jsonBody(res), ["deleted", "notFound"]);
  }

  /** The stored point without its vector, or undefined when the replica does not hold it. */
  async get(replica: string, id: string, opts: CallOptions): Promise<Record<string, unknown> | undefined> {
    const url = `${replica}/v1/points/${encodeURIComponent(id)}`;
    const res = await this.http.request({ method: "GET", url, headers: this.headers(), ...opts });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = jsonBody(res);
    if (typeof body !== "object" || body === null)
      throw new UpstreamError(url, 502, "response is not a JSON object");
    return body as Record<string, unknown>;
  }

  async stats(replica: string, opts: CallOptions): Promise<Record<string, unknown>> {
    const url = `${replica}/v1/stats`;
    const res = await this.http.request({ method: "GET", url, headers: this.headers(), ...opts });
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = jsonBody(res);
    if (typeof body !== "object" || body === null)
      throw new UpstreamError(url, 502, "response is not a JSON object");
    return body as Record<string, unknown>;
  }

  /** True when the replica answers /readyz with 200. */
  async ready(replica: string, opts: CallOptions): Promise<boolean> {
    return (await this.readiness(replica, opts)).ok;
  }

  async readiness(replica: string, opts: CallOptions): Promise<Readiness> {
    const res = await this.http.request({ method: "GET", url: `${replica}/readyz`, ...opts });
    const body = res.status === 200 ? (jsonBody(res) as { syncing?: unknown } | undefined) : undefined;
    return { ok: res.status === 200, syncing: body?.syncing === true };
  }

  /** POST /v1/sync: starts a catch-up from `from` unless one runs; answers the running one's status. */
  async startSync(replica: string, from: string, afterSeq: number, opts: CallOptions): Promise<SyncView> {
    const url = `${replica}/v1/sync`;
    const res = await this.http.request({
      method: "POST",
      url,
      headers: this.headers("application/json"),
      body: JSON.stringify({ from, afterSeq }),
      ...opts,
    });
    if (res.status !== 202 && res.status !== 200) throw UpstreamError.from(url, res);
    return syncView(url, jsonBody(res));
  }

  /** GET /v1/sync: the replica's catch-up status. */
  async syncStatus(replica: string, opts: CallOptions): Promise<SyncView> {
    const url = `${replica}/v1/sync`;
    const res = await this.http.request({ method: "GET", url, headers: this.headers(), ...opts });
    if (res.status !== 200) throw UpstreamError.from(url, res);
    return syncView(url, jsonBody(res));
  }
}

const syncPhases = new Set(["idle", "running", "done", "failed"]);

function syncView(url: string, body: unknown): SyncView {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const phase = b.phase;
  if (typeof phase !== "string" || !syncPhases.has(phase))
    throw new UpstreamError(
      url,
      502,
      `sync status has no phase idle|running|done|failed: ${JSON.stringify(body)}`,
    );
  const num = (v: unknown) => (typeof v === "number" && Number.isSafeInteger(v) ? v : undefined);
  return {
    phase: phase as SyncView["phase"],
    from: typeof b.from === "string" ? b.from : undefined,
    afterSeq: num(b.afterSeq),
    joinedAtSeq: num(b.joinedAtSeq),
    upserted: num(b.upserted) ?? 0,
    deleted: num(b.deleted) ?? 0,
    skipped: num(b.skipped) ?? 0,
    error: typeof b.error === "string" ? b.error : undefined,
  };
}
