// Calls to an encoder's HTTP API: /info for its fingerprint and prefixes, /v1/embeddings (base64
// float32) for vectors. Every embeddings answer's fingerprint header is checked against the one the
// caller expects, so a swapped encoder is caught on the very request, not at the next /info poll.
import { type HttpClient, jsonBody } from "./http-client.js";
import { FINGERPRINT_HEADER } from "./shard-client.js";
import { UpstreamError } from "./upstream-error.js";
import { leBytesToFloat32 } from "./vector-codec.js";

export interface EncoderInfo {
  name: string;
  dimension: number;
  fingerprint: string;
  queryPrefix: string;
  documentPrefix: string;
  /** Texts per /v1/embeddings request the encoder accepts. */
  maxClientBatchSize: number;
}

export type TextKind = "query" | "document";

export class FingerprintChanged extends Error {
  override name = "FingerprintChanged";
  constructor(
    readonly expected: string,
    readonly got: string,
  ) {
    super(`encoder answered with model fingerprint ${got}, expected ${expected}`);
  }
}

function str(v: unknown, fallback: string): string {
  return typeof v === "string" ? v : fallback;
}

export class EncoderClient {
  constructor(
    private readonly http: HttpClient,
    readonly url: string,
    private readonly apiKey?: string,
  ) {}

  private headers(): Record<string, string> {
    const h: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.apiKey) h.authorization = `Bearer ${this.apiKey}`;
    return h;
  }

  async info(timeoutMs: number): Promise<EncoderInfo> {
    const url = `${this.url}/info`;
    const res = await this.http.request({ method: "GET", url, headers: this.headers(), timeoutMs });
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const body = jsonBody(res) as Record<string, unknown> | undefined;
    if (typeof body?.fingerprint !== "string" || typeof body.dimension !== "number") {
      throw new UpstreamError(
        url,
        502,
        "/info has no fingerprint or dimension; is this an embedops encoder?",
      );
    }
    // The encoder's /info is TEI-flavoured (snake_case, prefixes nested); camelCase is accepted too.
    const prefixes = (
      typeof body.prefixes === "object" && body.prefixes !== null ? body.prefixes : {}
    ) as Record<string, unknown>;
    const batch = body.max_client_batch_size ?? body.maxClientBatchSize;
    return {
      name: str(body.model_id, str(body.name, "unknown")),
      dimension: body.dimension,
      fingerprint: body.fingerprint,
      queryPrefix: str(prefixes.query, str(body.queryPrefix, "")),
      documentPrefix: str(prefixes.document, str(body.documentPrefix, "")),
      maxClientBatchSize: typeof batch === "number" && batch >= 1 ? batch : 32,
    };
  }

  /**
   * Embeds texts that already carry their prefix; one request, so callers keep each call within
   * maxClientBatchSize. Throws FingerprintChanged when the encoder is not the expected model.
   */
  async embed(
    inputs: readonly string[],
    expectedFingerprint: string,
    timeoutMs: number,
  ): Promise<Float32Array[]> {
    const url = `${this.url}/v1/embeddings`;
    const res = await this.http.request({
      method: "POST",
      url,
      headers: this.headers(),
      body: JSON.stringify({ input: inputs, encoding_format: "base64" }),
      timeoutMs,
    });
    if (res.status !== 200) throw UpstreamError.from(url, res);
    const got = res.headers[FINGERPRINT_HEADER];
    if (typeof got === "string" && got !== expectedFingerprint)
      throw new FingerprintChanged(expectedFingerprint, got);
    const body = jsonBody(res) as { data?: { index?: unknown; embedding?: unknown }[] } | undefined;
    const data = body?.data;
    if (!Array.isArray(data) || data.length !== inputs.length) {
      throw new UpstreamError(
        url,
        502,
        `expected ${inputs.length} embeddings, got ${Array.isArray(data) ? data.length : "none"}`,
      );
    }
    const out: Float32Array[] = new Array(inputs.length);
    for (const item of data) {
      const index = typeof item.index === "number" ? item.index : -1;
      if (index < 0 || index >= inputs.length || typeof item.embedding !== "string") {
        throw new UpstreamError(url, 502, "embedding item without a valid index or base64 embedding");
      }
      out[index] = leBytesToFloat32(Buffer.from(item.embedding, "base64"));
    }
    return out;
  }
}

/** The text the model expects for this kind of input (e5/bge-style models embed "query: ..." etc.). */
export function withPrefix(
  info: Pick<EncoderInfo, "queryPrefix" | "documentPrefix">,
  kind: TextKind,
  text: string,
) {
  return (kind === "query" ? info.queryPrefix : info.documentPrefix) + text;
}
