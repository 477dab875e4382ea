// The recall gate's arithmetic and verdict, pure (recall-gate.ts does the I/O). Before a new index
// generation N+1 (a new model) gets any query traffic, two things are measured on the golden set:
//
// 1. recall@k of N+1's ANN answer against exact search under N+1's own model: the graph is good
//    enough. It must reach spec.quality.minRecall. This says nothing about the model.
// 2. When golden queries list relevant ids: the share of them in the top k ("relevant recall"),
//    N+1's ANN answer against N's. The new model must not find the right documents less often.
//
// Decision: the relevant-recall tolerance defaults to 0.05, absolute (N+1 may be up to 0.05 below N).
// - Absolute, not relative: "0.05 fewer of the relevant documents found" means the same at 0.3 and
//   at 0.9, and a user reads it straight off the two numbers in the message.
// - Not 0: a new model moves individual queries both ways; on a 50-query set one query losing its
//   single relevant id is 0.02, so 0 would block a model that is as good overall on two unlucky
//   queries. Both generations answer the same queries (a paired comparison), so that per-query
//   churn, not the sampling error of either mean, is the noise to stay above.
// - Not more: a drop of 0.05 is one relevant document lost in twenty, which users notice; a model
//   change that costs more than that should be a decision someone makes (raise the tolerance), not
//   something a rollout does by itself.
// Comparisons allow 1e-9 of float slack, so 0.77 - 0.72 counts as the 0.05 it is.

export const defaultRelevantTolerance = 0.05;
const slack = 1e-9;

/** How many of the top `k` ANN ids are among the top `k` exact ones, over how many there were to find. */
export function recallAtK(ann: readonly string[], exact: readonly string[], k: number): number {
  const truth = new Set(exact.slice(0, k));
  if (truth.size === 0) return 1; // nothing to find; the verdict refuses a generation that finds nothing
  let hits = 0;
  for (const id of new Set(ann.slice(0, k))) if (truth.has(id)) hits++;
  return hits / truth.size;
}

/**
 * The share of `relevant` found in the top `k` of `results`: |top-k ∩ relevant| / min(k, |relevant|),
 * so a query with 20 relevant ids and k 10 can still score 1. undefined when nothing is relevant.
 */
export function relevantRecall(
  results: readonly string[],
  relevant: readonly string[],
  k: number,
): number | undefined {
  const want = new Set(relevant);
  if (want.size === 0) return undefined;
  let hits = 0;
  for (const id of new Set(results.slice(0, k))) if (want.has(id)) hits++;
  return hits / Math.min(k, want.size);
}

export interface ScoredId {
  id: string;
  score: number;
}

/**
 * The exact top `k` ids, with a tie at the k-th place resolved in the ANN answer's favour. Two
 * points at the same distance (duplicate documents embed identically) are equally correct answers;
 * exact search and the graph break the tie differently, and that must not count as a miss.
 * `exact` may hold more than k hits (the runner asks for a few more to see the tie); higher scores
 * are better.
 */
export function exactIdsWithTies(
  ann: readonly ScoredId[],
  exact: readonly ScoredId[],
  k: number,
  epsilon = 1e-5,
): string[] {
  const kth = exact[k - 1];
  if (kth === undefined) return exact.map((h) => h.id);
  const sure = exact.filter((h) => h.score > kth.score + epsilon).map((h) => h.id);
  const tied = exact.filter((h) => Math.abs(h.score - kth.score) <= epsilon).map((h) => h.id);
  const annTop = new Set(ann.slice(0, k).map((h) => h.id));
  const preferred = [...tied.filter((id) => annTop.has(id)), ...tied.filter((id) => !annTop.has(id))];
  return [...sure, ...preferred].slice(0, k);
}

export interface GoldenQueryResults {
  query: string;
  /** N+1's ANN answer, best first. */
  annN1: readonly string[];
  /** N+1's exact answer, best first (see exactIdsWithTies). */
  exactN1: readonly string[];
  /** N's ANN answer, best first; needed for every query with relevant ids. */
  resultsN?: readonly string[] | undefined;
  relevant: readonly string[];
}

export interface GateInput {
  k: number;
  minRecall: number;
  /** Absolute drop of relevant recall from N to N+1 that still passes; default 0.05 (see above). */
  tolerance?: number;
  perQuery: readonly GoldenQueryResults[];
  /** Generation names for the messages. */
  names?: { n: string; n1: string };
}

export type GateReason =
  | "Passed"
  | "EmptyGoldenSet"
  | "NoResults"
  | "RecallBelowMinimum"
  | "RelevantRecallRegressed";

export interface GateVerdict {
  pass: boolean;
  reason: GateReason;
  /** Mean recall@k of N+1's ANN answers against exact search. */
  recallAtK: number;
  /** Means over the queries with relevant ids; absent when none has any. */
  relevantRecallN?: number;
  relevantRecallN1?: number;
  queries: number;
  relevantQueries: number;
  message: string;
}

const mean = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;

/** Two decimals, unless that would print a failing comparison as equal ("0.90 < 0.90"). */
function fmt(x: number, other?: number): string {
  if (other !== undefined && x.toFixed(2) === other.toFixed(2)) return x.toFixed(4);
  return x.toFixed(2);
}

/** Recall first (a broken graph makes every other number meaningless), then relevant recall. */
export function gateVerdict(input: GateInput): GateVerdict {
  const { k, minRecall, perQuery } = input;
  const tolerance = input.tolerance ?? defaultRelevantTolerance;
  const n = input.names?.n ?? "N";
  const n1 = input.names?.n1 ?? "N+1";
  const queries = perQuery.length;
  const withRelevant = perQuery.filter((q) => q.relevant.length > 0);
  const base = { queries, relevantQueries: withRelevant.length };
  if (queries === 0) {
    return {
      ...base,
      pass: false,
      reason: "EmptyGoldenSet",
      recallAtK: 0,
      message: "the golden set has no queries; add at least one line to spec.quality.goldenSet",
    };
  }
  const empty = perQuery.filter((q) => q.exactN1.length === 0).length;
  const recall = mean(perQuery.map((q) => recallAtK(q.annN1, q.exactN1, k)));
  if (empty > 0) {
    return {
      ...base,
      pass: false,
      reason: "NoResults",
      recallAtK: recall,
      message: `exact search on generation ${n1} found nothing for ${empty} of ${queries} golden queries; is the generation filled?`,
    };
  }
  const on = `on ${queries} golden ${queries === 1 ? "query" : "queries"}`;
  if (recall < minRecall - slack) {
    return {
      ...base,
      pass: false,
      reason: "RecallBelowMinimum",
      recallAtK: recall,
      message: `recall@${k} ${fmt(recall, minRecall)} < minRecall ${fmt(minRecall, recall)} ${on} (generation ${n1}'s ANN answers against its exact search)`,
    };
  }
  const recallPart = `recall@${k} ${fmt(recall)} >= minRecall ${fmt(minRecall)} ${on}`;
  if (withRelevant.length === 0) {
    return {
      ...base,
      pass: true,
      reason: "Passed",
      recallAtK: recall,
      message: `${recallPart}; relevant recall not checked: no golden query lists relevant ids`,
    };
  }
  const perN: number[] = [];
  const perN1: number[] = [];
  for (const q of withRelevant) {
    if (q.resultsN === undefined)
      throw new Error(`golden query "${q.query}" lists relevant ids but has no results from generation ${n}`);
    perN.push(relevantRecall(q.resultsN, q.relevant, k) as number);
    perN1.push(relevantRecall(q.annN1, q.relevant, k) as number);
  }
  const rN = mean(perN);
  const rN1 = mean(perN1);
  const drop = rN - rN1;
  const count = `${withRelevant.length} ${withRelevant.length === 1 ? "query" : "queries"} with relevant ids`;
  const numbers = { recallAtK: recall, relevantRecallN: rN, relevantRecallN1: rN1 };
  if (drop > tolerance + slack) {
    return {
      ...base,
      ...numbers,
      pass: false,
      reason: "RelevantRecallRegressed",
      message: `relevant recall@${k} ${fmt(rN1)} on generation ${n1} is ${fmt(drop, tolerance)} below ${fmt(rN)} on ${n} (tolerance ${fmt(tolerance, drop)}, ${count})`,
    };
  }
  return {
    ...base,
    ...numbers,
    pass: true,
    reason: "Passed",
    message: `${recallPart}; relevant recall@${k} ${fmt(rN1)} on generation ${n1} against ${fmt(rN)} on ${n} (tolerance ${fmt(tolerance)}, ${count})`,
  };
}
