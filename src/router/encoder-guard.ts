// The router only embeds text with an encoder whose model fingerprint equals the generation's:
// vectors from two models are not comparable, so a mismatch refuses text queries and ingest (and
// readiness) with a message naming both fingerprints, instead of returning plausible garbage.
import {
  type EncoderClient,
  type EncoderInfo,
  FingerprintChanged,
  type TextKind,
  withPrefix,
} from "./encoder-client.js";
import { HttpError } from "./errors.js";
import type { RouterMetrics } from "./metrics.js";
import { UpstreamError } from "./upstream-error.js";

export type EncoderStatus =
  | { state: "none" }
  | { state: "unknown"; message: string }
  | { state: "unreachable"; message: string }
  | { state: "mismatch"; message: string; encoderFingerprint: string }
  | { state: "ok"; info: EncoderInfo };

export class EncoderGuard {
  private current: EncoderStatus;

  constructor(
    private readonly client: EncoderClient | null,
    private readonly generation: { name: string; fingerprint: string; dimension: number },
    private readonly metrics: RouterMetrics,
  ) {
    this.current = client
      ? { state: "unknown", message: "encoder /info not checked yet" }
      : { state: "none" };
  }

  get status(): EncoderStatus {
    return this.current;
  }

  private mismatch(encoderFingerprint: string): Extract<EncoderStatus, { state: "mismatch" }> {
    const g = this.generation;
    return {
      state: "mismatch",
      encoderFingerprint,
      message:
        `encoder ${this.client?.url} serves model fingerprint ${encoderFingerprint}, but index generation ${g.name} ` +
        `was built with fingerprint ${g.fingerprint}; vectors from different models are not comparable, so text ` +
        `queries and ingest are refused. Point the router at an encoder of fingerprint ${g.fingerprint}, or roll out a new generation.`,
    };
  }

  private set(status: EncoderStatus): void {
    this.current = status;
    this.metrics.encoderFingerprintMatch.set(
      { fingerprint: this.generation.fingerprint },
      status.state === "ok" ? 1 : 0,
    );
  }

  /** Re-reads the encoder's /info; called at start and on an interval. */
  async check(timeoutMs: number): Promise<EncoderStatus> {
    if (!this.client) return this.current;
    try {
      const info = await this.client.info(timeoutMs);
      if (info.fingerprint !== this.generation.fingerprint) this.set(this.mismatch(info.fingerprint));
      else if (info.dimension !== this.generation.dimension) {
        this.set({
          state: "mismatch",
          encoderFingerprint: info.fingerprint,
          message: `encoder ${this.client.url} returns ${info.dimension} dimensions, generation ${this.generation.name} holds ${this.generation.dimension}`,
        });
      } else this.set({ state: "ok", info });
    } catch (err) {
      // A transient outage keeps a confirmed mismatch: only a successful /info can clear it.
      if (this.current.state !== "mismatch") {
        this.set({
          state: "unreachable",
          message: `encoder ${this.client.url} /info failed: ${(err as Error).message}`,
        });
      }
    }
    return this.current;
  }

  /** The encoder's info when text may be embedded; otherwise the HTTP error to answer with. */
  require(): EncoderInfo {
    const s = this.current;
    switch (s.state) {
      case "ok":
        return s.info;
      case "none":
        throw new HttpError(
          400,
          "no_encoder",
          `text: index generation ${this.generation.name} has no encoder configured; send "vector" instead`,
          { field: "text" },
        );
      case "mismatch":
        throw this.mismatchError(s);
      default:
        throw new HttpError(503, "encoder_unavailable", s.message);
    }
  }

  /** Embeds texts in requests of at most the encoder's batch size, `concurrency` at a time. */
  async embed(
    texts: readonly string[],
    kind: TextKind,
    timeoutMs: number,
    concurrency = 4,
  ): Promise<Float32Array[]> {
    const info = this.require();
    const client = this.client!;
    const size = info.maxClientBatchSize;
    const out: Float32Array[] = new Array(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const start = next;
        next += size;
        const chunk = texts.slice(start, start + size).map((t) => withPrefix(info, kind, t));
        const end = this.metrics.encoderDuration.startTimer({ kind });
        let vectors: Float32Array[];
        try {
          vectors = await client.embed(chunk, this.generation.fingerprint, timeoutMs);
        } catch (err) {
          throw this.embedFailure(err);
        }
        end();
        vectors.forEach((v, i) => {
          out[start + i] = v;
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(texts.length / size)) }, worker));
    return out;
  }

  private mismatchError(s: Extract<EncoderStatus, { state: "mismatch" }>): HttpError {
    return new HttpError(503, "fingerprint_mismatch", s.message, {
      generationFingerprint: this.generation.fingerprint,
      encoderFingerprint: s.encoderFingerprint,
    });
  }

  private embedFailure(err: unknown): HttpError {
    if (err instanceof FingerprintChanged) {
      const status = this.mismatch(err.got);
      this.set(status);
      return this.mismatchError(status);
    }
    this.metrics.errors.inc({
      shard: "encoder",
      reason: err instanceof UpstreamError ? `http_${err.status}` : "network",
    });
    if (err instanceof UpstreamError && err.status === 429) {
      return new HttpError(
        429,
        "encoder_busy",
        `encoder is at capacity: ${err.upstreamMessage}; retry later`,
      );
    }
    if (err instanceof UpstreamError && err.clientFault) {
      return new HttpError(400, "encoder_refused", `text: the encoder refused it: ${err.upstreamMessage}`, {
        field: "text",
      });
    }
    return new HttpError(503, "encoder_unavailable", `encoder failed: ${(err as Error).message}`);
  }
}
