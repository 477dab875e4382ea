// Durations written the way Kubernetes users write them elsewhere ("1h", "30m", "90s", "1h30m"):
// whole hours, minutes and seconds in that order. One pattern serves the CRD (the API server
// rejects a bad value naming the field) and `parseDurationMs`, which serve and the operator call.
import { z } from "zod";

/** h, m, s in that order, each at most once, at least one of them; e.g. "1h", "30m", "1h30m", "90s". */
export const DURATION_PATTERN = "^(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$";
const DURATION_RE = new RegExp(DURATION_PATTERN);
const DURATION_HINT =
  'a duration such as "1h", "30m", "90s" or "1h30m" (hours, minutes, seconds, in that order)';

/** A duration field of a spec; `description` says what it is for. */
export function duration(description: string) {
  return z
    .string()
    .min(2, `must be ${DURATION_HINT}`)
    .max(32)
    .regex(DURATION_RE, `must be ${DURATION_HINT}`)
    .describe(`${description} Written like "1h", "30m", "90s" or "1h30m".`);
}

/** "1h30m" → 5_400_000. Throws naming the value and the expected form when it is not a duration. */
export function parseDurationMs(text: string): number {
  const m = /^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?$/.exec(text);
  if (!m || text.length === 0) throw new Error(`"${text}" is not ${DURATION_HINT}`);
  const [, h = "0", min = "0", s = "0"] = m;
  return ((Number(h) * 60 + Number(min)) * 60 + Number(s)) * 1000;
}
