import { describe, expect, it } from "vitest";
import { DEFAULT_PROBE_TEXTS, probeBatch, probeTexts } from "../../../src/rollout/probe-texts.js";

describe("probe texts", () => {
  it("when nothing is configured, then ~20 distinct built-in sentences are used", () => {
    expect(probeTexts({})).toBe(DEFAULT_PROBE_TEXTS);
    expect(new Set(DEFAULT_PROBE_TEXTS).size).toBe(DEFAULT_PROBE_TEXTS.length);
    expect(DEFAULT_PROBE_TEXTS.length).toBeGreaterThanOrEqual(20);
  });

  it("when the index has golden queries, then they win over configured texts", () => {
    expect(probeTexts({ golden: ["g"], configured: ["c"] })).toEqual(["g"]);
  });

  it("when only texts are configured, then they are used", () => {
    expect(probeTexts({ golden: [], configured: ["c"] })).toEqual(["c"]);
  });

  it("when batches are drawn round after round, then they cycle through every text deterministically", () => {
    const texts = ["a", "b", "c"];
    expect(probeBatch(texts, 2, 0)).toEqual(["a", "b"]);
    expect(probeBatch(texts, 2, 1)).toEqual(["c", "a"]);
    expect(probeBatch(texts, 4, 0)).toEqual(["a", "b", "c", "a"]);
    expect(probeBatch(texts, 0, 3)).toEqual([]);
    expect(probeBatch([], 5)).toEqual([]);
  });
});
