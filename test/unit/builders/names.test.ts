import { describe, expect, it } from "vitest";
import { childName, MAX_STATEFULSET_NAME, shardSetName } from "../../../src/builders/names.js";

describe("child names", () => {
  it("when prefix and suffix fit, then the name is prefix-suffix", () => {
    expect(childName("docs", "router")).toBe("docs-router");
    expect(shardSetName("docs", "g-0123456789ab", "shard-0")).toBe("docs-g-0123456789ab-shard-0");
  });

  it.each([
    ["a".repeat(40), "g-0123456789ab", "shard-63"],
    ["long-index-name-with-many-words-in-it-xy", "g-ffffffffffff", "shard-0"],
  ])(
    "when %s is too long for a StatefulSet, then the name is shortened, keeps its suffix and fits",
    (index, gen, shard) => {
      const name = shardSetName(index, gen, shard);
      expect(name.length).toBeLessThanOrEqual(MAX_STATEFULSET_NAME);
      expect(name.endsWith(`-${gen}-${shard}`)).toBe(true);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    },
  );

  it("when two long prefixes share their beginning, then their shortened names differ", () => {
    const a = shardSetName(`${"x".repeat(39)}a`, "g-0123456789ab", "shard-0");
    const b = shardSetName(`${"x".repeat(39)}b`, "g-0123456789ab", "shard-0");
    expect(a).not.toBe(b);
  });

  it("when the same inputs are named twice, then the names are equal", () => {
    const index = "i".repeat(40);
    expect(shardSetName(index, "g-0123456789ab", "shard-1")).toBe(
      shardSetName(index, "g-0123456789ab", "shard-1"),
    );
  });
});
