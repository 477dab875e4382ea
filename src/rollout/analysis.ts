// The canary verdict of one analysis interval, as a chain of small pure checks (cert-manager's policy
// chains): each check looks at the SLO and the interval's metrics and says Pass, Fail or
// Inconclusive with a message. Unlike cert-manager's chain, every check runs, so a Fail names every
// SLO the candidate broke, not only the first.
import type { Slo } from "../api/v1alpha1/index.js";
import { formatPair } from "./format.js";

export type VerdictResult = "Pass" | "Fail" | "Inconclusive";

/** What one revision served in one analysis interval (counter and histogram deltas). */
export interface MetricWindow {
  readonly requests: number;
  /** Requests that count against the error budget (see metrics-window.ts for which). */
  readonly errors: number;
  /** p99 latency in ms; undefined when nothing was observed. */
  readonly p99Ms?: number;
}

export interface AnalysisInput {
  readonly slo: Pick<Slo, "maxP99LatencyMs" | "maxErrorRate" | "minRequests" | "maxLatencyIncreasePercent">;
  readonly candidate: MetricWindow;
  /** Needed only for slo.maxLatencyIncreasePercent. */
  readonly stable?: MetricWindow;
  /** The candidate's traffic percent in the interval, for the messages. */
  readonly weight: number;
}

export interface Check {
  /** "requests", "error rate", "p99", "p99 vs stable". */
  readonly name: string;
  /** The measured value in the limit's unit (count, ratio, ms, percent); undefined when unmeasurable. */
  readonly value?: number;
  readonly limit: number;
  readonly result: VerdictResult;
  readonly message: string;
}

export interface Verdict {
  readonly result: VerdictResult;
  /** Every check that ran, in chain order. */
  readonly checks: readonly Check[];
  /** Fail: every failed check's message joined by "; ". Inconclusive: why. Pass: a summary. */
  readonly message: string;
}

type CheckFn = (input: AnalysisInput) => Check | undefined;

const at = (weight: number) => `at weight ${weight}%`;
const pct = (ratio: number) => ratio * 100;

/** Fewer than minRequests: nothing else can be concluded (a p99 of 3 requests says nothing). */
export const requestsCheck = ({ slo, candidate, weight }: AnalysisInput): Check => {
  const enough = candidate.requests >= slo.minRequests;
  return {
    name: "requests",
    value: candidate.requests,
    limit: slo.minRequests,
    result: enough ? "Pass" : "Inconclusive",
    message: enough
      ? `${candidate.requests} requests ${at(weight)}`
      : `only ${candidate.requests} of the ${slo.minRequests} requests needed reached the candidate ${at(weight)}`,
  };
};

export const errorRateCheck: CheckFn = ({ slo, candidate, weight }) => {
  const rate = candidate.requests > 0 ? candidate.errors / candidate.requests : 0;
  const failed = rate > slo.maxErrorRate;
  const [v, l] = formatPair(pct(rate), pct(slo.maxErrorRate));
  return {
    name: "error rate",
    value: rate,
    limit: slo.maxErrorRate,
    result: failed ? "Fail" : "Pass",
    message: `error rate ${v}% ${failed ? ">" : "<="} ${l}% ${at(weight)}`,
  };
};

export const p99Check: CheckFn = ({ slo, candidate, weight }) => {
  const limit = slo.maxP99LatencyMs;
  if (candidate.p99Ms === undefined) {
    return {
      name: "p99",
      limit,
      result: "Inconclusive",
      message: `no latency observed for the candidate ${at(weight)}`,
    };
  }
  const failed = candidate.p99Ms > limit;
  const [v, l] = formatPair(candidate.p99Ms, limit);
  return {
    name: "p99",
    value: candidate.p99Ms,
    limit,
    result: failed ? "Fail" : "Pass",
    message: `p99 ${v} ms ${failed ? ">" : "<="} ${l} ms ${at(weight)}`,
  };
};

/**
 * "No worse than stable by X %". Needs the stable's own minRequests worth of traffic in the same
 * interval, or the comparison is Inconclusive (shells probe the stable too when this SLO is set).
 */
export const latencyVsStableCheck: CheckFn = ({ slo, candidate, stable, weight }) => {
  const limit = slo.maxLatencyIncreasePercent;
  if (limit === undefined) return undefined;
  const name = "p99 vs stable";
  if (candidate.p99Ms === undefined) return undefined; // p99Check already says so
  if (
    stable === undefined ||
    stable.requests < slo.minRequests ||
    stable.p99Ms === undefined ||
    stable.p99Ms <= 0
  ) {
    return {
      name,
      limit,
      result: "Inconclusive",
      message: `the stable revision served ${stable?.requests ?? 0} requests (${slo.minRequests} needed) to compare p99 with ${at(weight)}`,
    };
  }
  const increase = ((candidate.p99Ms - stable.p99Ms) / stable.p99Ms) * 100;
  const failed = increase > limit;
  const [c, s] = formatPair(candidate.p99Ms, stable.p99Ms);
  const [i, l] = formatPair(Math.abs(increase), limit);
  const relation = increase >= 0 ? `is ${i}% above` : `is ${i}% below`;
  return {
    name,
    value: increase,
    limit,
    result: failed ? "Fail" : "Pass",
    message: `p99 ${c} ms ${relation} stable's ${s} ms (limit ${l}%) ${at(weight)}`,
  };
};

/** The chain after the requests gate, in the order messages list them. */
export const SLO_CHECKS: readonly CheckFn[] = [errorRateCheck, p99Check, latencyVsStableCheck];

/**
 * The verdict of one interval: Inconclusive when fewer than minRequests reached the candidate;
 * otherwise Fail when any check failed (all of them named), Inconclusive when one could not be
 * measured, else Pass.
 */
export function analyze(input: AnalysisInput): Verdict {
  const gate = requestsCheck(input);
  if (gate.result !== "Pass") return { result: "Inconclusive", checks: [gate], message: gate.message };
  const checks = [gate, ...SLO_CHECKS.map((c) => c(input)).filter((c): c is Check => c !== undefined)];
  const failed = checks.filter((c) => c.result === "Fail");
  if (failed.length > 0) return { result: "Fail", checks, message: failed.map((c) => c.message).join("; ") };
  const unsure = checks.filter((c) => c.result === "Inconclusive");
  if (unsure.length > 0) {
    return { result: "Inconclusive", checks, message: unsure.map((c) => c.message).join("; ") };
  }
  const summary = checks.map((c) => c.message.replace(` ${at(input.weight)}`, "")).join(", ");
  return { result: "Pass", checks, message: `all checks passed ${at(input.weight)}: ${summary}` };
}
