// The router only embeds text with an encoder whose model fingerprint equals the generation's:
// vectors from two models are not comparable, so a mismatch refuses text queries and ingest (and
// readiness) with a message naming both fingerprints, instead of returning plausible garbage.
// One guard per encoder revision (stable, canary): each is checked on its own, so a canary of
// another model is refused while the stable one serves (encoder-revisions.ts picks between them).
import {
  type EncoderClient,
  type EncoderInfo,
  FingerprintChanged,
  type TextKind,
  withPrefix,
} from "./encoder-client.js";
import { HttpError } from "./errors.js";
import { RequestFailed } from "./http-client.js";
import type { EncoderOutcome, RouterMetrics } from "./metrics.js";
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
    /** The revision's name in metric labels and messages. */
    readonly revision: string,
  ) {
    this.current = client
      ? { state: "unknown", message: "encoder /info not checked yet" }
      : { state: "none" };
  }

  get status(): EncoderStatus {
    return this.current;
  }

  get url(): string | undefined {
    return this.client?.url;
  }

  private mismatch(encoderFingerprint: string): Extract<EncoderStatus, { state: "mismatch" }> {
    const g = this.generation;
    return {
      state: "mismatch",
      encoderFingerprint,
      message:
        `encoder ${this.client?.url} (revision ${this.revision}) serves model fingerprint ${encoderFingerprint}, but index generation ${g.name} ` +
        `was built with fingerprint ${g.fingerprint}; vectors from different models are not comparable, so text ` +
        `queries and ingest are refused. Point the router at an encoder of fingerprint ${g.fingerprint}, or roll out a new generation.`,
    };
  }

  private set(status: EncoderStatus): void {
    this.current = status;
    this.metrics.encoderFingerprintMatch.set(
      { fingerprint: this.generation.fingerprint, revision: this.revision },
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

  /**
   * Embeds texts in requests of at most the encoder's batch size, `concurrency` at a time. Every call
   * is counted by outcome; when /info has not confirmed the fingerprint nothing is sent and the
   * refusal is counted once, so a canary that never gets to serve still shows in its error rate.
   */
  async embed(
    texts: readonly string[],
    kind: TextKind,
    timeoutMs: number,
    concurrency = 4,
  ): Promise<Float32Array[]> {
    let info: EncoderInfo;
    try {
      info = this.require();
    } catch (err) {
      const state = this.current.state;
      if (state !== "none") this.count(kind, state === "mismatch" ? "mismatch" : "unavailable");
      throw err;
    }
    const client = this.client!;
    const size = info.maxClientBatchSize;
    const out: Float32Array[] = new Array(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const start = next;
        next += size;
        const chunk = texts.slice(start, start + size).map((t) => withPrefix(info, kind, t));
        const end = this.metrics.encoderDuration.startTimer({
          kind,
          revision: this.revision,
          generation: this.generation.name,
        });
        let vectors: Float32Array[];
        try {
          vectors = await client.embed(chunk, this.generation.fingerprint, timeoutMs);
        } catch (err) {
          const outcome = outcomeOf(err);
          end({ outcome });
          this.count(kind, outcome);
          throw this.embedFailure(err);
        }
        end({ outcome: "ok" });
        this.count(kind, "ok");
        vectors.forEach((v, i) => {
          out[start + i] = v;
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(texts.length / size)) }, worker));
    return out;
  }

  private count(kind: TextKind, outcome: EncoderOutcome): void {
    this.metrics.encoderCalls.inc({
      revision: this.revision,
      kind,
      outcome,
      generation: this.generation.name,
    });
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
    const who = `encoder revision ${this.revision}`;
    if (err instanceof UpstreamError && err.status === 429) {
      return new HttpError(429, "encoder_busy", `${who} is at capacity: ${err.upstreamMessage}; retry later`);
    }
    if (err instanceof UpstreamError && err.clientFault) {
      return new HttpError(400, "encoder_refused", `text: the encoder refused it: ${err.upstreamMessage}`, {
        field: "text",
      });
    }
    return new HttpError(503, "encoder_unavailable", `${who} failed: ${(err as Error).message}`);
  }
}

/** The metric outcome of a failed embedding call. */
export function outcomeOf(err: unknown): EncoderOutcome {
  if (err instanceof FingerprintChanged) return "mismatch";
  if (err instanceof RequestFailed && err.reason === "timeout") return "timeout";
  if (err instanceof UpstreamError) {
    if (err.status === 429) return "busy";
    if (err.clientFault) return "client_error";
  }
  return "error";
}
