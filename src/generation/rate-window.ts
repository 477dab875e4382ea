// Documents per second over the last few seconds: the record's ratePerSecond and the ETA follow the
// throttle's changes instead of averaging over the whole run. Pure.

export interface RatePoint {
  readonly at: number;
  readonly count: number;
}

export const RATE_WINDOW_MS = 10_000;

/** Adds a (time ms, cumulative count) point; keeps the newest point older than the window as the base. */
export function addPoint(points: readonly RatePoint[], p: RatePoint, windowMs = RATE_WINDOW_MS): RatePoint[] {
  const all = [...points, p];
  let first = 0;
  while (first + 1 < all.length && (all[first + 1] as RatePoint).at <= p.at - windowMs) first++;
  return all.slice(first);
}

/** Per second between the oldest and newest point; 0 with fewer than two points or no time between. */
export function rateOf(points: readonly RatePoint[]): number {
  const a = points[0];
  const b = points[points.length - 1];
  if (a === undefined || b === undefined || b.at <= a.at) return 0;
  return ((b.count - a.count) * 1000) / (b.at - a.at);
}
