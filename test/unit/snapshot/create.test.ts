import { describe, expect, it } from "vitest";
import { type ShardCopyResponse, shardManifestFromCopy } from "../../../src/snapshot/create.js";

const copy = (over: Partial<ShardCopyResponse> = {}): ShardCopyResponse => ({
  shardId: "shard-1",
  fingerprint: "abcdef012345",
  metric: "cosine",
  dimension: 16,
  hnsw: { m: 16, efConstruction: 200 },
  vectorCount: 10,
  seq: 12,
  files: [
    { name: "shard.db", bytes: 4096, sha256: "b".repeat(64) },
    { name: "checkpoint-0000000000000012.hnsw", bytes: 100, sha256: "a".repeat(64) },
  ],
  ...over,
});
const at = {
  index: "docs",
  generation: "g-abcdef012345",
  shard: 1,
  fingerprint: "abcdef012345",
  createdAt: "2026-12-02T12:00:00Z",
};

describe("shardManifestFromCopy", () => {
  it("when the shard's copy is of the snapshot's model, then the manifest carries its watermark, counts and sorted files", () => {
    const m = shardManifestFromCopy(copy(), at);
    expect(m).toMatchObject({
      index: "docs",
      shard: 1,
      seq: 12,
      vectorCount: 10,
      dimension: 16,
      metric: "cosine",
    });
    expect(m.files.map((f) => f.name)).toEqual(["checkpoint-0000000000000012.hnsw", "shard.db"]);
  });

  it("when the shard serves another model fingerprint, then the snapshot is refused naming both", () => {
    expect(() => shardManifestFromCopy(copy({ fingerprint: "0123456789ab" }), at)).toThrow(
      /shard 1 of docs serves model fingerprint 0123456789ab, the snapshot is of abcdef012345/,
    );
  });

  it("when the copy lists a file twice, then the manifest is refused naming it", () => {
    const twice = copy({ files: [copy().files[0]!, copy().files[0]!] });
    expect(() => shardManifestFromCopy(twice, at)).toThrow(/file shard\.db is listed twice/);
  });
});
