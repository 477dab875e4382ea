// What the operator reads of a generation move that only running pods can answer: whether every
// router writes to N+1, the backfill's progress record, the recall gate's result and the query
// canary's verdict. Injectable like the EmbeddingModel's FingerprintProbe: the default speaks HTTP
// to the pods; the integration tests (no pods run against a bare API server) pass a stand-in.

import type { GateResult } from "../../src/generation/generation-rollout.js";
import type { GoldenQuery } from "../../src/generation/golden-set.js";
import {
  BACKFILL_META_KEY,
  type BackfillRecord,
  backfillRecordSchema,
} from "../../src/generation/progress.js";
import { type QueryCanary, queryVerdict } from "../../src/generation/query-verdict.js";
import { type GateGeneration, runRecallGate } from "../../src/generation/recall-gate.js";
import { describeError } from "../../src/kube/errors.js";
import { withLabels } from "../../src/rollout/metrics-window.js";
import { parsePrometheusText, type Sample } from "../../src/rollout/prometheus-text.js";
import { HttpClient } from "../../src/router/http-client.js";

/** One index's move, as the probe is asked about it. */
export interface MoveTarget {
  readonly namespace: string;
  readonly index: string;
  /** N+1's name (g-…). */
  readonly generation: string;
}

export interface GateTarget extends MoveTarget {
  readonly golden: readonly GoldenQuery[];
  readonly k: number;
  readonly minRecall: number;
  /** N: the generation serving now. */
  readonly current: GateGeneration;
  /** N+1. */
  readonly candidate: GateGeneration;
}

export interface CanaryTarget extends MoveTarget, QueryCanary {
  /** Router pods' base URLs (http://<pod IP>:8080). */
  readonly routers: readonly string[];
}

export type GateObservation = GateResult;

export interface GenerationProbe {
  /** Every router pod (base URLs) reports `generation` as its candidate: it writes to both. None: false. */
  dualWriting(target: MoveTarget & { readonly routers: readonly string[] }): Promise<boolean>;
  /** The backfill's record in N+1's first shard (replica URLs), or undefined before it wrote one. */
  backfill(target: MoveTarget & { readonly shard0: readonly string[] }): Promise<BackfillRecord | undefined>;
  /** The recall gate: started on the first call, undefined until it has a result. */
  gate(target: GateTarget): Promise<GateObservation | undefined>;
  /** The query canary's verdict over the interval since the previous call; undefined without a baseline. */
  verdict(
    target: CanaryTarget,
  ): Promise<{ readonly result: "Pass" | "Fail" | "Inconclusive"; readonly message: string } | undefined>;
  /** Forget what is kept for moves that ended (gate results, scrape baselines). */
  forget(target: MoveTarget): void;
}

const TIMEOUT_MS = 3000;
const keyOf = (t: MoveTarget) => `${t.namespace}/${t.index}/${t.generation}`;

async function getJson(http: HttpClient, url: string): Promise<{ status: number; body: unknown }> {
  const res = await http.request({ method: "GET", url, timeoutMs: TIMEOUT_MS });
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString("utf8"));
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/**
 * The default: HTTP to the pods. Routers are asked on their open /readyz (it names the candidate
 * generation like /v1/stats does, without the API key the operator does not hold).
 */
export function httpGenerationProbe(http = new HttpClient()): GenerationProbe {
  const gates = new Map<string, { result?: GateObservation }>();
  const baselines = new Map<string, readonly Sample[]>();
  return {
    async dualWriting(t) {
      if (t.routers.length === 0) return false;
      const answers = await Promise.all(
        t.routers.map((base) =>
          getJson(http, `${base}/readyz`).then(
            ({ body }) =>
              (body as { candidate?: { generation?: unknown } } | undefined)?.candidate?.generation ===
              t.generation,
            () => false,
          ),
        ),
      );
      return answers.every(Boolean);
    },

    async backfill(t) {
      for (const replica of t.shard0) {
        try {
          const { status, body } = await getJson(http, `${replica}/v1/meta/${BACKFILL_META_KEY}`);
          if (status === 404) return undefined;
          if (status !== 200) continue;
          const parsed = backfillRecordSchema.safeParse((body as { value?: unknown } | undefined)?.value);
          return parsed.success && parsed.data.to === t.generation ? parsed.data : undefined;
        } catch {
          // The next replica.
        }
      }
      return undefined;
    },

    async gate(t) {
      const key = keyOf(t);
      const running = gates.get(key);
      if (running) return running.result;
      const entry: { result?: GateObservation } = {};
      gates.set(key, entry);
      void runRecallGate({
        golden: t.golden,
        k: t.k,
        minRecall: t.minRecall,
        current: t.current,
        candidate: t.candidate,
        http,
      }).then(
        (v) => {
          entry.result = { pass: v.pass, recall: v.recallAtK, message: v.message };
        },
        (err: unknown) => {
          // A gate that could not look at every shard vouches for nothing: it fails, naming why.
          entry.result = { pass: false, message: `the recall gate could not measure: ${describeError(err)}` };
        },
      );
      return undefined;
    },

    async verdict(t) {
      const scrapes = await Promise.all(
        t.routers.map((base) =>
          http
            .request({ method: "GET", url: `${base}/metrics`, timeoutMs: TIMEOUT_MS })
            .then((r) => withLabels(parsePrometheusText(r.body.toString("utf8")), { pod: base })),
        ),
      ).catch(() => undefined);
      const key = keyOf(t);
      const before = baselines.get(key);
      if (!scrapes) return undefined;
      const after = scrapes.flat();
      baselines.set(key, after);
      if (!before) return undefined;
      return queryVerdict(t, before, after);
    },

    forget(t) {
      gates.delete(keyOf(t));
      baselines.delete(keyOf(t));
    },
  };
}
