// Numbers in rollout messages, as a person reads them in an Event: "p99 812 ms", "error rate 4.2%".

/** Whole numbers from 10 up, two significant digits below: 812, 62, 4.2, 0.05. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 10 ? String(Math.round(value)) : String(Number(value.toPrecision(2)));
}

/**
 * `value` and `limit` formatted so that a breach never reads "1% > 1%": significant digits are added
 * until the two texts differ (up to six).
 */
export function formatPair(value: number, limit: number): [string, string] {
  let v = formatNumber(value);
  let l = formatNumber(limit);
  for (let digits = 3; digits <= 6 && v === l && value !== limit; digits++) {
    v = String(Number(value.toPrecision(digits)));
    l = String(Number(limit.toPrecision(digits)));
  }
  return [v, l];
}
