import { describe, expect, it } from "vitest";
import { parseDurationMs, VectorIndex } from "../../../src/api/v1alpha1/index.js";

describe("parseDurationMs", () => {
  it.each([
    ["1h", 3_600_000],
    ["30m", 1_800_000],
    ["90s", 90_000],
    ["2s", 2_000],
    ["1h30m", 5_400_000],
    ["1h0m5s", 3_605_000],
    ["0s", 0],
  ])("when given %s, then it is %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(["", "1", "1 h", "1d", "30m1h", "-5s", "1.5h", "h"])(
    "when given %j, then it throws naming the value and the expected form",
    (text) => {
      expect(() => parseDurationMs(text)).toThrow(`"${text}" is not a duration such as "1h"`);
    },
  );

  it("when every value the schema accepts is parsed, then it does not throw (one pattern for both)", () => {
    const base = { apiVersion: "embedops.dev/v1alpha1", kind: "VectorIndex", metadata: { name: "docs" } };
    for (const retainPrevious of ["1h", "45m", "2s", "1h30m"]) {
      const vi = VectorIndex.parse({
        ...base,
        spec: { modelRef: { name: "m" }, rollout: { retainPrevious } },
      });
      expect(parseDurationMs(vi.spec.rollout.retainPrevious)).toBeGreaterThan(0);
    }
  });
});
