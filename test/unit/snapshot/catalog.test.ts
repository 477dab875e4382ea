import { describe, expect, it } from "vitest";
import { groupSnapshots } from "../../../src/snapshot/catalog.js";

const o = (key: string, bytes = 10) => ({ key, bytes });

describe("groupSnapshots", () => {
  it("when a snapshot has its top manifest, then it is complete; without it, incomplete", () => {
    const got = groupSnapshots("", [
      o("docs/s1/manifest.json"),
      o("docs/s1/shard-0/manifest.json"),
      o("docs/s1/shard-0/shard.db", 100),
      o("docs/s2/shard-0/shard.db", 100),
      o("docs/s2/shard-0/manifest.json"),
      o("faq/s1/manifest.json"),
    ]);
    expect(got).toEqual([
      { index: "docs", snapshot: "s1", root: "docs/s1/", objects: 3, bytes: 120, complete: true },
      { index: "docs", snapshot: "s2", root: "docs/s2/", objects: 2, bytes: 110, complete: false },
      { index: "faq", snapshot: "s1", root: "faq/s1/", objects: 1, bytes: 10, complete: true },
    ]);
  });

  it("when the store has a prefix, then keys outside it and stray top-level files are ignored", () => {
    const got = groupSnapshots("team/a/", [
      o("team/a/docs/s1/manifest.json"),
      o("team/b/docs/s1/manifest.json"),
      o("team/a/readme"),
    ]);
    expect(got.map((g) => g.root)).toEqual(["team/a/docs/s1/"]);
  });

  it("when only a shard manifest exists, then the snapshot is not complete", () => {
    expect(groupSnapshots("", [o("docs/s3/shard-1/manifest.json")])[0]?.complete).toBe(false);
  });
});
