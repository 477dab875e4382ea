// Backing off while the stable's latency SLO is at risk: additive increase, multiplicative decrease
// (TCP's rule, for the same reason: many backfills sharing one stable converge on a fair share
// without talking to each other). Pure: one decision per metrics window.

/** p99 above this share of the SLO means "at risk": act before the SLO is breached, not after. */
export const RISK_SHARE = 0.8;
/** The floor: a backfill that stops entirely never finishes, and one doc/s is no load. */
export const MIN_RATE = 1;
/** Per calm window, this share of the cap is added back. */
export const INCREASE_SHARE = 0.1;

export type AimdAction = "decrease" | "increase" | "hold";

export interface AimdDecision {
  rate: number;
  action: AimdAction;
  reason: string;
}

/**
 * The next rate after a window whose p99 was `p99Ms` (undefined: the stable served nothing in the
 * window, which is no risk). `cap` is maxDocumentsPerSecond.
 */
export function aimdStep(
  rate: number,
  cap: number,
  p99Ms: number | undefined,
  maxP99Ms: number,
): AimdDecision {
  const floor = Math.min(MIN_RATE, cap);
  const threshold = RISK_SHARE * maxP99Ms;
  if (p99Ms !== undefined && p99Ms > threshold) {
    const next = Math.max(floor, rate / 2);
    return {
      rate: next,
      action: next < rate ? "decrease" : "hold",
      reason: `stable p99 ${Math.round(p99Ms)} ms > ${Math.round(threshold)} ms (80% of ${maxP99Ms} ms)`,
    };
  }
  const next = Math.min(cap, rate + INCREASE_SHARE * cap);
  const seen =
    p99Ms === undefined ? "no stable requests in the window" : `stable p99 ${Math.round(p99Ms)} ms`;
  return {
    rate: next,
    action: next > rate ? "increase" : "hold",
    reason: `${seen} <= ${Math.round(threshold)} ms (80% of ${maxP99Ms} ms)`,
  };
}
