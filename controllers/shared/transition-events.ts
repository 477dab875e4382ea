// Which Events a status change deserves: only transitions a human acts on (became Ready, stopped
// being Ready, spec became invalid, a domain condition turned bad), never a steady state, so an
// Event stream reads as a history and a resync adds nothing to it.
import { type Condition, findCondition } from "../../src/kube/status.js";

export interface TransitionEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

/** Condition types whose True means trouble (InvalidSpec) vs. whose False means trouble (ModelResolved). */
const BAD_WHEN_TRUE = new Set(["InvalidSpec", "Degraded"]);
const BAD_WHEN_FALSE = new Set(["ModelResolved"]);

export function transitionEvents(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[],
): TransitionEvent[] {
  const events: TransitionEvent[] = [];
  for (const c of next) {
    const before = findCondition(previous, c.type);
    const changed = before?.status !== c.status || (c.status !== "True" && before?.reason !== c.reason);
    if (!changed) continue;
    const message = c.message ?? "";
    if (c.type === "Ready") {
      if (c.status === "True") events.push({ type: "Normal", reason: "Ready", message });
      else if (before?.status === "True")
        events.push({ type: "Warning", reason: c.reason ?? "NotReady", message });
    } else if (BAD_WHEN_TRUE.has(c.type) && c.status === "True") {
      events.push({ type: "Warning", reason: c.reason ?? c.type, message });
    } else if (BAD_WHEN_FALSE.has(c.type) && c.status === "False") {
      // Waiting (e.g. for the model's fingerprint) is news, not trouble.
      const waiting = c.reason?.startsWith("Waiting") ?? false;
      events.push({ type: waiting ? "Normal" : "Warning", reason: c.reason ?? c.type, message });
    }
  }
  return events;
}
