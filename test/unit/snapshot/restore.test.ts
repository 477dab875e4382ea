import { describe, expect, it } from "vitest";
import type { ShardManifest, SnapshotManifest } from "../../../src/snapshot/manifest.js";
import { checkShardManifest, fingerprintRefusal, placeFile } from "../../../src/snapshot/restore.js";

describe("placeFile", () => {
  it.each([
    ["shard.db", "shard.db"],
    ["checkpoint-0000000000000042.hnsw", "checkpoints/checkpoint-0000000000000042.hnsw"],
    ["checkpoint-0000000000000042.json", "checkpoints/checkpoint-0000000000000042.json"],
  ])("when the snapshot holds %s, then it goes to %s in the data dir", (name, place) => {
    expect(placeFile(name)).toBe(place);
  });

  it.each(["owner.json", "shard.db-wal", "checkpoint-42.hnsw", ".tmp-checkpoint-0000000000000042.hnsw"])(
    "when the snapshot holds %s, then restore refuses it by name",
    (name) => {
      expect(() => placeFile(name)).toThrow(new RegExp(`snapshot file ${name.replace(/\./g, "\\.")} is not`));
    },
  );
});

describe("fingerprintRefusal", () => {
  it("when the fingerprints are equal, then there is nothing to refuse", () => {
    expect(fingerprintRefusal("docs/s1/", "abc", "abc")).toBeUndefined();
  });
  it("when they differ, then the message names both", () => {
    expect(fingerprintRefusal("docs/s1/", "abc", "def")).toMatch(/fingerprint abc, the target expects def/);
  });
});

describe("checkShardManifest", () => {
  const top = { index: "docs", generation: "g-1", fingerprint: "abc" } as SnapshotManifest;
  const shard = (over: Partial<ShardManifest>) =>
    ({ shard: 0, index: "docs", generation: "g-1", fingerprint: "abc", ...over }) as ShardManifest;
  it.each([
    [{ shard: 1 }, /says it is shard 1/],
    [{ index: "other" }, /has index other, the snapshot's manifest has docs/],
    [{ generation: "g-2" }, /has generation g-2/],
    [{ fingerprint: "zzz" }, /has fingerprint zzz/],
  ])("when the shard manifest differs by %o, then it is refused", (over, message) => {
    expect(() => checkShardManifest(top, shard(over), 0)).toThrow(message);
  });
  it("when it matches, then it passes", () => {
    expect(() => checkShardManifest(top, shard({}), 0)).not.toThrow();
  });
});
