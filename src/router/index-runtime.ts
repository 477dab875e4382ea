// The index as the router serves it under one config: the active generation and, while the index
// moves to a new model, the candidate generation. Writes go to both (documents-route.ts); a query
// goes to exactly one, so it is never answered by comparing vectors of two models:
//   - text: the candidate for `queryWeight` % of queries by the exact split of revision-split.ts,
//     else the active; the chosen generation's encoder embeds it and only its shards are asked.
//   - a vector: the generation whose fingerprint it declares (409 when none has it); an undeclared
//     vector goes to the active generation, as it did before there were two.
// A candidate that cannot serve (encoder not confirmed, a shard with no live replica) hands its
// share to the active one: the split still advances, so the share is exact again once it can.
import type { Logger } from "../util/log.js";
import type { RouterConfig } from "./config.js";
import { HttpError } from "./errors.js";
import { GenerationRuntime } from "./generation-runtime.js";
import type { HttpClient } from "./http-client.js";
import type { RouterMetrics } from "./metrics.js";
import { WeightedSplit } from "./revision-split.js";

export class IndexRuntime {
  readonly active: GenerationRuntime;
  readonly candidate: GenerationRuntime | undefined;
  private readonly split: WeightedSplit | null;
  /**
   * Write requests that started on this runtime and have not finished. After a reload, the old
   * runtime's count says when no write can still reach only the replicas it knew (a new replica's
   * catch-up starts after that; see /v1/stats `olderWritesInFlight`).
   */
  writesInFlight = 0;

  constructor(
    readonly config: RouterConfig,
    http: HttpClient,
    metrics: RouterMetrics,
    log: Logger,
    /** The runtime this one replaces: each generation carries over what its namesake learned. */
    previous?: IndexRuntime,
  ) {
    const make = (gen: RouterConfig["generation"]) =>
      new GenerationRuntime(config, gen, http, metrics, log, previous?.byName(gen.name));
    this.active = make(config.generation);
    this.candidate = config.candidate ? make(config.candidate) : undefined;
    const cand = config.candidate;
    if (cand) {
      const before = previous?.candidate?.name === cand.name ? previous.split : null;
      this.split = new WeightedSplit(
        cand.queryWeight,
        before && before.weight === cand.queryWeight ? before.position : 0,
      );
    } else this.split = null;
  }

  /** The active generation's fingerprint: the one document responses and errors carry. */
  get fingerprint(): string {
    return this.active.fingerprint;
  }

  /** Active first. */
  generations(): GenerationRuntime[] {
    return this.candidate ? [this.active, this.candidate] : [this.active];
  }

  byName(name: string): GenerationRuntime | undefined {
    return this.generations().find((g) => g.name === name);
  }

  get queryWeight(): number {
    return this.split?.weight ?? 0;
  }

  async start(): Promise<void> {
    await Promise.all(this.generations().map((g) => g.start()));
  }

  stop(): void {
    for (const g of this.generations()) g.stop();
  }

  /** Readiness is the active generation's: the candidate takes no query it cannot serve. */
  notReadyReasons(): string[] {
    return this.active.notReadyReasons();
  }

  /** The generation that answers the next text query; one split step per call. */
  forText(): GenerationRuntime {
    const toCandidate = this.split?.next() ?? false;
    if (toCandidate && this.candidate && this.candidate.notReadyReasons().length === 0) return this.candidate;
    return this.active;
  }

  /** The generation that holds vectors of the declared model; the active one when none is declared. */
  forVector(declared: string | undefined): GenerationRuntime {
    if (declared === undefined) return this.active;
    const gen = this.generations().find((g) => g.fingerprint === declared);
    if (gen) return gen;
    const serving = this.generations().map((g) => `${g.name} (${g.generation.role}): ${g.fingerprint}`);
    throw new HttpError(
      409,
      "fingerprint_mismatch",
      `fingerprint: the vector was declared as made by model ${declared}, but index ${this.config.index} holds vectors of ${serving.join("; ")}; embed the query with one of those models (or send text)`,
      {
        field: "fingerprint",
        declaredFingerprint: declared,
        generationFingerprint: this.active.fingerprint,
        generations: this.generations().map((g) => ({ name: g.name, fingerprint: g.fingerprint })),
      },
    );
  }
}
