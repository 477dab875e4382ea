// A generation's encoder as one or two revisions of the same model: the stable one and, during a
// traffic canary, a candidate that gets `weight` % of the embedding calls by the exact split of
// revision-split.ts. One split decision per embed() (a query, or one ingest request's whole batch),
// so a batch is embedded by exactly one revision.
//
// Each revision has its own fingerprint guard. A candidate whose /info does not confirm the
// generation's fingerprint is never sent text: its share goes to stable, counted against the
// candidate as "mismatch" or "unavailable". When a call to the candidate fails (error, timeout, 429,
// a fingerprint header that changed) the failure is counted against the candidate — that is what
// the rollout analysis reads — and the request is retried once on stable, so users do not pay for
// a bad canary. The client therefore sees a candidate failure only as latency (up to one extra
// timeout); a request fails only when stable fails too.
import type { EncoderClient, TextKind } from "./encoder-client.js";
import { EncoderGuard, type EncoderStatus } from "./encoder-guard.js";
import type { RouterMetrics } from "./metrics.js";
import { WeightedSplit } from "./revision-split.js";

export interface CanaryRevision {
  client: EncoderClient;
  revision: string;
  weight: number;
}

export interface RevisionStatus {
  revision: string;
  url: string | undefined;
  status: EncoderStatus;
}

export class EncoderRevisions {
  readonly stable: EncoderGuard;
  readonly canary: EncoderGuard | null;
  private readonly split: WeightedSplit | null;

  constructor(
    stable: { client: EncoderClient | null; revision: string },
    canary: CanaryRevision | undefined,
    generation: { name: string; fingerprint: string; dimension: number },
    metrics: RouterMetrics,
    /** The previous runtime's split: its position carries over when the weight is unchanged. */
    previous?: EncoderRevisions,
  ) {
    this.stable = new EncoderGuard(stable.client, generation, metrics, stable.revision);
    if (canary) {
      this.canary = new EncoderGuard(canary.client, generation, metrics, canary.revision);
      const before = previous?.split;
      this.split = new WeightedSplit(
        canary.weight,
        before && before.weight === canary.weight ? before.position : 0,
      );
    } else {
      this.canary = null;
      this.split = null;
    }
  }

  /** The stable revision's state: the one readiness and the fingerprint check depend on. */
  get status(): EncoderStatus {
    return this.stable.status;
  }

  get weight(): number {
    return this.split?.weight ?? 0;
  }

  revisions(): RevisionStatus[] {
    return [this.stable, ...(this.canary ? [this.canary] : [])].map((g) => ({
      revision: g.revision,
      url: g.url,
      status: g.status,
    }));
  }

  /** Re-reads every revision's /info. */
  async check(timeoutMs: number): Promise<void> {
    await Promise.all([this.stable.check(timeoutMs), this.canary?.check(timeoutMs)]);
  }

  async embed(texts: readonly string[], kind: TextKind, timeoutMs: number): Promise<Float32Array[]> {
    if (this.canary && this.split?.next()) {
      try {
        return await this.canary.embed(texts, kind, timeoutMs);
      } catch {
        // Counted against the canary by its guard; stable answers the request.
      }
    }
    return this.stable.embed(texts, kind, timeoutMs);
  }
}
