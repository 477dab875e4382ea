import { describe, expect, it } from "vitest";
import { type Condition, mergeConditions, statusChanged } from "../../../src/kube/status.js";

const T0 = "2025-01-01T00:00:00Z";
const T1 = "2025-01-02T00:00:00Z";

const ready = (status: Condition["status"], extra: Partial<Condition> = {}): Condition => ({
  type: "Ready",
  status,
  reason: "Converged",
  message: "all children ready",
  observedGeneration: 3,
  ...extra,
});

describe("statusChanged", () => {
  const cases: Array<{ when: string; desired: unknown; observed: unknown; changed: boolean }> = [
    { when: "both are absent", desired: undefined, observed: undefined, changed: false },
    {
      when: "there is no observed status yet",
      desired: { observedGeneration: 1 },
      observed: undefined,
      changed: true,
    },
    {
      when: "only lastTransitionTime differs",
      desired: { conditions: [ready("True", { lastTransitionTime: T1 })] },
      observed: { conditions: [ready("True", { lastTransitionTime: T0 })] },
      changed: false,
    },
    {
      when: "only the order of conditions differs",
      desired: { conditions: [ready("True"), { type: "Degraded", status: "False" }] },
      observed: { conditions: [{ type: "Degraded", status: "False" }, ready("True")] },
      changed: false,
    },
    {
      when: "a condition's status flips",
      desired: { conditions: [ready("False")] },
      observed: { conditions: [ready("True")] },
      changed: true,
    },
    {
      when: "a condition's message changes",
      desired: { conditions: [ready("True", { message: "2/3 shards ready" })] },
      observed: { conditions: [ready("True")] },
      changed: true,
    },
    {
      when: "observedGeneration moves on",
      desired: { observedGeneration: 4, conditions: [ready("True")] },
      observed: { observedGeneration: 3, conditions: [ready("True")] },
      changed: true,
    },
    {
      when: "a condition is removed",
      desired: { conditions: [ready("True")] },
      observed: { conditions: [ready("True"), { type: "Degraded", status: "False" }] },
      changed: true,
    },
    {
      when: "a nested domain field changes",
      desired: { generations: [{ name: "g2", vectors: 10 }] },
      observed: { generations: [{ name: "g2", vectors: 9 }] },
      changed: true,
    },
    {
      when: "an optional field is undefined in desired and absent in observed",
      desired: { phase: "Stable", canaryWeight: undefined },
      observed: { phase: "Stable" },
      changed: false,
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then changed is ${c.changed}`, () => {
      expect(statusChanged(c.desired, c.observed)).toBe(c.changed);
    });
  }
});

describe("mergeConditions", () => {
  it("when a condition keeps its status, then its observed lastTransitionTime is kept", () => {
    const merged = mergeConditions([ready("True", { lastTransitionTime: T0 })], [ready("True")], T1);
    expect(merged[0]?.lastTransitionTime).toBe(T0);
  });

  it("when a condition changes status, then lastTransitionTime is now", () => {
    const merged = mergeConditions([ready("True", { lastTransitionTime: T0 })], [ready("False")], T1);
    expect(merged[0]?.lastTransitionTime).toBe(T1);
  });

  it("when a condition is new, then lastTransitionTime is now", () => {
    const merged = mergeConditions(undefined, [ready("Unknown")], T1);
    expect(merged).toEqual([{ ...ready("Unknown"), lastTransitionTime: T1 }]);
  });

  it("when merged against a steady state, then the result is not a change", () => {
    const observed = { conditions: [ready("True", { lastTransitionTime: T0 })] };
    const desired = { conditions: mergeConditions(observed.conditions, [ready("True")], T1) };
    expect(statusChanged(desired, observed)).toBe(false);
    expect(desired).toEqual(observed);
  });
});
