import { describe, expect, it } from "vitest";
import { COPY_MAX_AGE_MS, isCopyId, newCopyId, staleCopies } from "../../../src/shard/snapshot-copies.js";

const now = Date.parse("2026-12-02T12:00:00Z");

describe("staleCopies", () => {
  it.each([
    { name: "no copies", entries: [], stale: [] },
    { name: "a fresh copy stays", entries: [{ name: "a", mtimeMs: now - 60_000 }], stale: [] },
    { name: "exactly the limit stays", entries: [{ name: "a", mtimeMs: now - COPY_MAX_AGE_MS }], stale: [] },
    {
      name: "past the limit goes",
      entries: [{ name: "a", mtimeMs: now - COPY_MAX_AGE_MS - 1 }],
      stale: ["a"],
    },
    {
      name: "only the old ones go, sorted",
      entries: [
        { name: "c", mtimeMs: now - 3 * COPY_MAX_AGE_MS },
        { name: "b", mtimeMs: now },
        { name: "a", mtimeMs: now - 2 * COPY_MAX_AGE_MS },
      ],
      stale: ["a", "c"],
    },
  ])("when $name, then $stale are removed", ({ entries, stale }) => {
    expect(staleCopies(entries, now)).toEqual(stale);
  });
});

describe("copy ids", () => {
  it("when an id is made, then it is accepted, and path-like or foreign names are not", () => {
    const id = newCopyId(now);
    expect(isCopyId(id)).toBe(true);
    expect(newCopyId(now)).not.toBe(id);
    for (const bad of ["", "..", "../x", "c1-zzzzzzzz", `${id}/..`, "shard.db"])
      expect(isCopyId(bad), bad).toBe(false);
  });
});
