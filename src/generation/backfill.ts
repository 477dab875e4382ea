// The backfill loop: copy every document of generation N into N+1, re-embedded from its stored text
// by the candidate encoder. Pass after pass over N's shards in seq order, each page one batch:
// throttle → embed → write (ifAbsent, under writeQuorum) → advance the cursor → persist the record.
// Finished when a whole pass finds nothing new. The decisions are the pure modules beside this one;
// this file only sequences the calls.

import { parsePrometheusText, type Sample } from "../rollout/prometheus-text.js";
import { type EncoderClient, type EncoderInfo, withPrefix } from "../router/encoder-client.js";
import type { HttpClient } from "../router/http-client.js";
import type { ShardPoint } from "../router/shard-client.js";
import { UpstreamError } from "../router/upstream-error.js";
import type { Logger } from "../util/log.js";
import { aimdStep } from "./aimd-guard.js";
import { cursorAfter, groupByShard, recordMismatch, type ScanPage, startRecord } from "./cursor.js";
import { type Plan, type PlanShard, quorumOf } from "./plan.js";
import {
  BACKFILL_META_KEY,
  type BackfillRecord,
  backfillRecordSchema,
  etaSeconds,
  progressOf,
} from "./progress.js";
import { addPoint, type RatePoint, rateOf } from "./rate-window.js";
import { retryable, withRetry } from "./retry.js";
import { GenerationShards } from "./shard-io.js";
import { stableP99Ms } from "./stable-latency.js";
import { createBucket, type TokenBucket, take, withRate } from "./token-bucket.js";

/** A failure that retrying will not fix; its message names what failed and what to do. */
export class BackfillError extends Error {
  override name = "BackfillError";
}

export interface BackfillDeps {
  http: HttpClient;
  encoder: EncoderClient;
  log: Logger;
  now: () => number;
  /** Resolves after `ms`, or earlier once a stop was requested. */
  sleep: (ms: number) => Promise<void>;
  /** True after SIGTERM: the loop stops after the current batch, the record saved. */
  stopRequested: () => boolean;
}

export interface BackfillResult {
  record: BackfillRecord;
  /** True when it stopped on request before finishing. */
  stopped: boolean;
}

const EMBED_TIMEOUT_MS = 120_000;
const TOTAL_REFRESH_MS = 10_000;
const PROGRESS_LOG_MS = 5_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class Backfill {
  private readonly source: GenerationShards;
  private readonly target: GenerationShards;
  private readonly preferred = new Map<string, number>();
  private info!: EncoderInfo;
  private record!: BackfillRecord;
  private rate: number;
  private bucket: TokenBucket;
  private rates: RatePoint[] = [];
  private nextTotalAt = 0;
  private nextLogAt = 0;
  private guardBefore: Sample[] | undefined;
  private nextGuardAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly plan: Plan,
    private readonly deps: BackfillDeps,
  ) {
    this.source = new GenerationShards(deps.http, plan.from.fingerprint);
    this.target = new GenerationShards(deps.http, plan.to.fingerprint);
    this.rate = plan.maxDocumentsPerSecond;
    this.bucket = createBucket(this.rate, Math.max(1, Math.min(plan.batchSize, this.rate)), deps.now());
  }

  async run(): Promise<BackfillResult> {
    const { plan, deps } = this;
    await this.checkEncoder();
    const total = await this.checkShardsAndCount();
    const stored = await this.loadRecord();
    if (stored) {
      const mismatch = recordMismatch(stored, plan.from.generation, plan.to.generation);
      if (mismatch) throw new BackfillError(mismatch);
    }
    const names = plan.from.shards.map((s) => s.name);
    this.record = startRecord(stored, plan.from.generation, plan.to.generation, names, total, this.iso());
    deps.log.info(stored ? "backfill resuming" : "backfill starting", {
      from: plan.from.generation,
      to: plan.to.generation,
      cursor: this.record.cursor,
      done: this.record.done,
      total,
      maxDocumentsPerSecond: plan.maxDocumentsPerSecond,
    });
    this.rates = [{ at: deps.now(), count: this.record.done }];
    this.nextTotalAt = deps.now() + TOTAL_REFRESH_MS;
    await this.save();
    await this.startGuard();
    // The budget starts now, empty: the checks above earn no burst.
    this.bucket = createBucket(this.rate, this.bucket.burst, deps.now());

    for (let pass = 1; ; pass++) {
      let found = 0;
      for (const shard of plan.from.shards) {
        for (;;) {
          if (deps.stopRequested()) return this.stop();
          await this.housekeeping();
          const limit = Math.min(plan.batchSize, Math.max(1, Math.ceil(this.rate)));
          const after = this.record.cursor[shard.name] ?? 0;
          const page = await this.scan(shard, after, limit);
          found += page.items.length;
          if (!(await this.copy(page))) return this.stop();
          const next = cursorAfter(page);
          if (next !== after || page.items.length > 0) {
            this.record.cursor[shard.name] = next;
            await this.save();
          }
          if (page.done) break;
        }
      }
      deps.log.info("backfill pass complete", { pass, found, done: this.record.done });
      if (found === 0) {
        this.record.finished = true;
        this.record.total = await this.sourceTotal();
        await this.save();
        deps.log.info("backfill finished", {
          done: this.record.done,
          skippedExisting: this.record.skippedExisting,
          withoutText: this.record.withoutText,
        });
        return { record: this.record, stopped: false };
      }
    }
  }

  private async stop(): Promise<BackfillResult> {
    await this.save();
    this.deps.log.info("backfill stopped on request; the cursor is saved", { cursor: this.record.cursor });
    return { record: this.record, stopped: true };
  }

  private iso(): string {
    return new Date(this.deps.now()).toISOString();
  }

  private retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, this.deps.sleep, (err, attempt) =>
      this.deps.log.warn("backfill call failed; retrying", { what, attempt, err: message(err) }),
    );
  }

  private async checkEncoder(): Promise<void> {
    const { plan } = this;
    this.info = await this.retry("encoder /info", () => this.deps.encoder.info(30_000));
    if (this.info.fingerprint !== plan.to.fingerprint) {
      throw new BackfillError(
        `the candidate encoder ${plan.to.encoder.url} serves model fingerprint ${this.info.fingerprint}, ` +
          `but the plan's to.fingerprint is ${plan.to.fingerprint}: point to.encoder.url at the encoder of ${plan.to.generation}'s model`,
      );
    }
  }

  /** Every shard of both generations reached and of the declared fingerprint; N's live count. */
  private async checkShardsAndCount(): Promise<number> {
    let total = 0;
    for (const [side, gen, shards] of [
      ["from", this.source, this.plan.from.shards],
      ["to", this.target, this.plan.to.shards],
    ] as const) {
      for (const shard of shards) {
        const stats = await this.anyReplica(shard, (r) => gen.stats(r));
        if (stats.fingerprint !== undefined && stats.fingerprint !== gen.fingerprint)
          throw new BackfillError(
            `${side} shard ${shard.name} holds fingerprint ${stats.fingerprint}, but the plan's ${side}.fingerprint is ${gen.fingerprint}: the plan names the wrong shards`,
          );
        if (side === "from") total += stats.count;
      }
    }
    return total;
  }

  private async sourceTotal(): Promise<number> {
    let total = 0;
    for (const shard of this.plan.from.shards)
      total += (await this.anyReplica(shard, (r) => this.source.stats(r))).count;
    return total;
  }

  /** `fn` on the shard's preferred live replica, then the next ones; retried while all fail transiently. */
  private anyReplica<T>(shard: PlanShard, fn: (replica: string) => Promise<T>): Promise<T> {
    return this.retry(`shard ${shard.name}`, async () => {
      const n = shard.replicas.length;
      const first = this.preferred.get(shard.name) ?? 0;
      const failures: string[] = [];
      for (let k = 0; k < n; k++) {
        const i = (first + k) % n;
        try {
          const out = await fn(shard.replicas[i] as string);
          this.preferred.set(shard.name, i);
          return out;
        } catch (err) {
          if (!retryable(err)) throw err;
          failures.push(message(err));
        }
      }
      throw new UpstreamError(`shard ${shard.name}`, 503, `no replica answered: ${failures.join("; ")}`);
    });
  }

  /** `fn` on every replica; resolves once `need` succeeded, with their results. */
  private allReplicas<T>(shard: PlanShard, what: string, fn: (replica: string) => Promise<T>): Promise<T[]> {
    const need = quorumOf(this.plan.writeQuorum, shard.replicas.length);
    return this.retry(`${what} on ${shard.name}`, async () => {
      const settled = await Promise.allSettled(shard.replicas.map(fn));
      const ok = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      if (ok.length >= need) return ok;
      const errors = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
      const fatal = errors.find((e) => !retryable(e));
      if (fatal) throw fatal;
      throw new UpstreamError(
        `shard ${shard.name}`,
        503,
        `${what}: ${ok.length} of ${shard.replicas.length} replica(s) acknowledged, writeQuorum needs ${need}: ${errors.map(message).join("; ")}`,
      );
    });
  }

  private scan(shard: PlanShard, afterSeq: number, limit: number): Promise<ScanPage> {
    return this.anyReplica(shard, (r) => this.source.scan(r, afterSeq, limit));
  }

  /** The newest record on N+1's first shard (replicas may lag by a failed write). */
  private async loadRecord(): Promise<BackfillRecord | undefined> {
    const first = this.plan.to.shards[0] as PlanShard;
    const values = await this.allReplicas(first, "read the backfill record", (r) =>
      this.target.getMeta(r, BACKFILL_META_KEY),
    );
    let newest: BackfillRecord | undefined;
    for (const value of values) {
      if (value === undefined) continue;
      const parsed = backfillRecordSchema.safeParse(value);
      if (!parsed.success)
        throw new BackfillError(
          `the backfill record on ${first.name} (/v1/meta/${BACKFILL_META_KEY}) is not a backfill record: ${parsed.error.issues[0]?.message}; delete it to start over`,
        );
      if (newest === undefined || parsed.data.updatedAt > newest.updatedAt) newest = parsed.data;
    }
    return newest;
  }

  private async save(): Promise<void> {
    const r = this.record;
    const now = this.deps.now();
    r.ratePerSecond = Math.round(rateOf(this.rates) * 10) / 10;
    r.etaSeconds = r.finished ? 0 : etaSeconds(r.total, r.done + r.withoutText, r.ratePerSecond);
    r.updatedAt = this.iso();
    const first = this.plan.to.shards[0] as PlanShard;
    await this.allReplicas(first, "write the backfill record", (rep) =>
      this.target.putMeta(rep, BACKFILL_META_KEY, r),
    );
    if (now >= this.nextLogAt || r.finished) {
      this.nextLogAt = now + PROGRESS_LOG_MS;
      this.deps.log.info("backfill progress", {
        progress: progressOf(r, now).text,
        done: r.done,
        total: r.total,
        withoutText: r.withoutText,
        ratePerSecond: r.ratePerSecond,
        etaSeconds: r.etaSeconds,
      });
    }
  }

  /** Embeds and writes one page; false when a stop came while it waited for the throttle. */
  private async copy(page: ScanPage): Promise<boolean> {
    const docs = page.items.filter((it): it is typeof it & { text: string } => typeof it.text === "string");
    const without = page.items.length - docs.length;
    if (docs.length > 0) {
      const t = take(this.bucket, docs.length, this.deps.now());
      this.bucket = t.bucket;
      if (t.waitMs > 0) await this.deps.sleep(t.waitMs);
      if (this.deps.stopRequested()) return false;
      const vectors = await this.embed(docs.map((d) => d.text));
      const points: ShardPoint[] = docs.map((d, i) => ({
        id: d.id,
        vector: vectors[i] as Float32Array,
        metadata: d.metadata ?? undefined,
        text: d.text,
      }));
      const written = await Promise.all(
        [...groupByShard(points, this.plan.to.shards.length)].map(([s, pts]) => {
          const shard = this.plan.to.shards[s] as PlanShard;
          return this.allReplicas(shard, "write points", (r) => this.target.upsertIfAbsent(r, pts));
        }),
      );
      // Replicas that acknowledged may differ (one had the batch from an earlier attempt): the
      // smallest skip count is the one that only clients' writes explain.
      for (const acks of written) this.record.skippedExisting += Math.min(...acks.map((a) => a.skipped));
      this.record.done += docs.length;
    }
    this.record.withoutText += without;
    this.rates = addPoint(this.rates, { at: this.deps.now(), count: this.record.done });
    return true;
  }

  private async embed(texts: string[]): Promise<Float32Array[]> {
    const { encoder } = this.deps;
    const parts = await Promise.all(
      chunks(texts, this.info.maxClientBatchSize).map((part) =>
        this.retry("embed", () =>
          encoder.embed(
            part.map((t) => withPrefix(this.info, "document", t)),
            this.plan.to.fingerprint,
            EMBED_TIMEOUT_MS,
          ),
        ),
      ),
    );
    return parts.flat();
  }

  /** Between batches: re-read N's total now and then, and run the latency guard when due. */
  private async housekeeping(): Promise<void> {
    const now = this.deps.now();
    if (now >= this.nextTotalAt) {
      this.nextTotalAt = now + TOTAL_REFRESH_MS;
      try {
        this.record.total = await this.sourceTotal();
      } catch (err) {
        this.deps.log.warn("cannot re-read the source total; keeping the last one", { err: message(err) });
      }
    }
    if (now >= this.nextGuardAt) await this.guardStep();
  }

  private async scrape(): Promise<Sample[] | undefined> {
    const guard = this.plan.latencyGuard;
    if (!guard) return undefined;
    try {
      const res = await this.deps.http.request({ method: "GET", url: guard.metricsUrl, timeoutMs: 5000 });
      if (res.status !== 200) throw UpstreamError.from(guard.metricsUrl, res);
      return parsePrometheusText(res.body.toString("utf8"));
    } catch (err) {
      this.deps.log.warn("cannot read the stable's latency; the rate is held", {
        metricsUrl: guard.metricsUrl,
        err: message(err),
      });
      return undefined;
    }
  }

  private async startGuard(): Promise<void> {
    const guard = this.plan.latencyGuard;
    if (!guard) return;
    this.guardBefore = await this.scrape();
    this.nextGuardAt = this.deps.now() + guard.intervalSeconds * 1000;
  }

  private async guardStep(): Promise<void> {
    const guard = this.plan.latencyGuard;
    if (!guard) return;
    this.nextGuardAt = this.deps.now() + guard.intervalSeconds * 1000;
    const after = await this.scrape();
    if (after === undefined) return;
    const before = this.guardBefore;
    this.guardBefore = after;
    if (before === undefined) return;
    const p99 = stableP99Ms(before, after, guard.revision);
    const d = aimdStep(this.rate, this.plan.maxDocumentsPerSecond, p99, guard.maxP99Ms);
    if (d.action === "hold") return;
    const fields = { from: this.rate, to: d.rate, reason: d.reason };
    if (d.action === "decrease")
      this.deps.log.warn("backfill slows down: the stable's latency is at risk", fields);
    else this.deps.log.info("backfill speeds up", fields);
    this.rate = d.rate;
    this.bucket = withRate(this.bucket, this.rate, this.deps.now());
  }
}

export function runBackfill(plan: Plan, deps: BackfillDeps): Promise<BackfillResult> {
  return new Backfill(plan, deps).run();
}
