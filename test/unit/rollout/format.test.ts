import { describe, expect, it } from "vitest";
import { formatNumber, formatPair } from "../../../src/rollout/format.js";

describe("formatNumber", () => {
  it.each([
    [812.4, "812"],
    [62.07, "62"],
    [10, "10"],
    [4.166, "4.2"],
    [1, "1"],
    [0.5, "0.5"],
    [0.01234, "0.012"],
    [0, "0"],
  ])("when %s is formatted, then it reads %s", (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});

describe("formatPair", () => {
  it("when the value is above the limit but rounds to it, then digits are added until they differ", () => {
    expect(formatPair(1.04, 1)).toEqual(["1.04", "1"]);
    expect(formatPair(500.4, 500)).toEqual(["500.4", "500"]);
  });

  it("when the two differ at two digits, then two digits are enough", () => {
    expect(formatPair(4.2, 1)).toEqual(["4.2", "1"]);
  });

  it("when they are equal, then both read the same", () => {
    expect(formatPair(1, 1)).toEqual(["1", "1"]);
  });
});
