// Status the cert-manager way: compute the desired status, compare with the observed one, write
// only when it changed. lastTransitionTime is carried over for conditions whose status did not
// change, so a steady state computes a status identical to the stored one and writes nothing.
import { deepEqual } from "./compare.js";

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime?: string;
}

/**
 * The conditions to write: `desired` in its order, each with the observed lastTransitionTime when
 * its status is unchanged, or `now` (RFC 3339) when it transitioned or is new.
 */
export function mergeConditions(
  observed: readonly Condition[] | undefined,
  desired: readonly Condition[],
  now: string,
): Condition[] {
  const byType = new Map((observed ?? []).map((c) => [c.type, c]));
  return desired.map((c) => {
    const previous = byType.get(c.type);
    const lastTransitionTime =
      previous && previous.status === c.status && previous.lastTransitionTime
        ? previous.lastTransitionTime
        : now;
    return { ...c, lastTransitionTime };
  });
}

function withoutTransitionTimes(status: unknown): unknown {
  if (typeof status !== "object" || status === null || Array.isArray(status)) return status;
  const s = status as Record<string, unknown>;
  if (!Array.isArray(s["conditions"])) return s;
  const conditions = (s["conditions"] as Condition[])
    .map(({ lastTransitionTime: _ignored, ...rest }) => rest)
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  return { ...s, conditions };
}

/**
 * Whether `desired` differs from `observed` in anything but condition order and
 * lastTransitionTime: a timestamp alone never justifies a write.
 */
export function statusChanged(desired: unknown, observed: unknown): boolean {
  return !deepEqual(withoutTransitionTimes(desired), withoutTransitionTimes(observed));
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
