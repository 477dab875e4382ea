import { describe, expect, it } from "vitest";
import { formatTable } from "../../../src/local/table.js";

describe("formatTable", () => {
  it("when cells differ in width, then columns are padded to the widest", () => {
    const out = formatTable(
      ["#", "id"],
      [
        ["1", "alpha"],
        ["10", "b"],
      ],
    );
    expect(out.split("\n")).toEqual(["#   id", "--  -----", "1   alpha", "10  b"]);
  });
  it("when the last column is wider than the terminal, then it is cut with an ellipsis", () => {
    const out = formatTable(["id", "text"], [["a", "x".repeat(100)]], 20);
    const last = out.split("\n")[2] ?? "";
    expect(last.length).toBe(20);
    expect(last.endsWith("…")).toBe(true);
  });
});
