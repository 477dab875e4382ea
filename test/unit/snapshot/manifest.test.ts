import { describe, expect, it } from "vitest";
import {
  buildShardManifest,
  buildSnapshotManifest,
  MANIFEST_FORMAT_VERSION,
  parseManifest,
  type ShardManifest,
  SnapshotManifest,
  verifyFile,
} from "../../../src/snapshot/manifest.js";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const AT = "2026-12-02T03:00:00Z";

const shardInput = (shard: number, over: Partial<Omit<ShardManifest, "formatVersion">> = {}) => ({
  index: "docs",
  generation: "g1",
  shard,
  fingerprint: "sha256:feed",
  metric: "cosine" as const,
  dimension: 384,
  hnsw: { m: 16, efConstruction: 200 },
  vectorCount: 100 + shard,
  seq: 4242,
  files: [
    { name: "vectors.db", bytes: 2048, sha256: SHA_B },
    { name: "checkpoint-0000000000004242.hnsw", bytes: 1024, sha256: SHA_A },
  ],
  createdAt: AT,
  ...over,
});

describe("buildShardManifest", () => {
  it("when the input is complete, then it carries the format version and files sorted by name", () => {
    const m = buildShardManifest(shardInput(0));
    expect(m.formatVersion).toBe(MANIFEST_FORMAT_VERSION);
    expect(m.files.map((f) => f.name)).toEqual(["checkpoint-0000000000004242.hnsw", "vectors.db"]);
    expect(m.seq).toBe(4242);
  });

  const bad: { when: string; over: Partial<Omit<ShardManifest, "formatVersion">>; error: RegExp }[] = [
    {
      when: "a file is listed twice",
      over: {
        files: [
          { name: "x", bytes: 1, sha256: SHA_A },
          { name: "x", bytes: 1, sha256: SHA_A },
        ],
      },
      error: /shard 0: file x is listed twice/,
    },
    {
      when: "a checksum is not hex",
      over: { files: [{ name: "x", bytes: 1, sha256: "nope" }] },
      error: /invalid at files\.0\.sha256: must be 64 lowercase hex/,
    },
    {
      when: "a file name has a directory",
      over: { files: [{ name: "../x", bytes: 1, sha256: SHA_A }] },
      error: /at files\.0\.name: must be a plain file name/,
    },
    { when: "there are no files", over: { files: [] }, error: /at files/ },
    { when: "the vector count is negative", over: { vectorCount: -1 }, error: /at vectorCount/ },
    { when: "createdAt is not RFC 3339", over: { createdAt: "yesterday" }, error: /at createdAt/ },
  ];
  for (const c of bad) {
    it(`when ${c.when}, then it is refused naming the field`, () => {
      expect(() => buildShardManifest(shardInput(0, c.over))).toThrow(c.error);
    });
  }
});

describe("buildSnapshotManifest", () => {
  const top = (shards: ShardManifest[]) =>
    buildSnapshotManifest({
      index: "docs",
      generation: "g1",
      fingerprint: "sha256:feed",
      shards: shards.map((m) => ({ manifestKey: `docs/s/shard-${m.shard}/manifest.json`, manifest: m })),
      createdAt: AT,
    });

  it("when shards 0..n-1 come in any order, then it lists them in order with their vectors", () => {
    const m = top([buildShardManifest(shardInput(1)), buildShardManifest(shardInput(0))]);
    expect(m).toEqual({
      formatVersion: 1,
      index: "docs",
      generation: "g1",
      fingerprint: "sha256:feed",
      shards: [
        { shard: 0, manifestKey: "docs/s/shard-0/manifest.json", vectors: 100 },
        { shard: 1, manifestKey: "docs/s/shard-1/manifest.json", vectors: 101 },
      ],
      createdAt: AT,
    });
    // What is written is what a reader accepts.
    expect(parseManifest(SnapshotManifest, JSON.parse(JSON.stringify(m)), "round trip")).toEqual(m);
  });

  const bad: { when: string; shards: ShardManifest[]; error: RegExp }[] = [
    {
      when: "a shard is missing",
      shards: [buildShardManifest(shardInput(0)), buildShardManifest(shardInput(2))],
      error: /needs shards 0\.\.1 once each; found shard 2 where shard 1 belongs/,
    },
    {
      when: "a shard is repeated",
      shards: [buildShardManifest(shardInput(0)), buildShardManifest(shardInput(0))],
      error: /found shard 0 where shard 1 belongs/,
    },
    {
      when: "a shard was built by another model",
      shards: [buildShardManifest(shardInput(0, { fingerprint: "sha256:other" }))],
      error: /shard 0's manifest has fingerprint sha256:other, the snapshot has sha256:feed/,
    },
    {
      when: "a shard is from another generation",
      shards: [buildShardManifest(shardInput(0)), buildShardManifest(shardInput(1, { generation: "g2" }))],
      error: /shard 1's manifest has generation g2, the snapshot has g1/,
    },
    {
      when: "a shard is from another index",
      shards: [buildShardManifest(shardInput(0, { index: "faq" }))],
      error: /shard 0's manifest has index faq/,
    },
    { when: "there are no shards", shards: [], error: /invalid at shards/ },
  ];
  for (const c of bad) {
    it(`when ${c.when}, then it is refused`, () => {
      expect(() => top(c.shards)).toThrow(c.error);
    });
  }
});

describe("parseManifest", () => {
  it("when a stored manifest has an unknown format version, then the error names the source and field", () => {
    const m = { ...buildShardManifest(shardInput(0)), formatVersion: 2 };
    expect(() => parseManifest(SnapshotManifest, m, "s3://b/docs/s/manifest.json")).toThrow(
      /snapshot manifest s3:\/\/b\/docs\/s\/manifest\.json is invalid at formatVersion/,
    );
  });
});

describe("verifyFile", () => {
  const expected = { name: "vectors.db", bytes: 2048, sha256: SHA_A };
  const cases: { when: string; actual: { bytes: number; sha256: string }; error?: RegExp }[] = [
    { when: "size and checksum match", actual: { bytes: 2048, sha256: SHA_A } },
    {
      when: "the size differs",
      actual: { bytes: 1000, sha256: SHA_A },
      error: /snapshot file vectors\.db has 1000 bytes, its manifest says 2048: .*truncated/,
    },
    {
      when: "the checksum differs",
      actual: { bytes: 2048, sha256: SHA_B },
      error: new RegExp(
        `snapshot file vectors\\.db has sha256 ${SHA_B}, its manifest says ${SHA_A}: .*corrupt`,
      ),
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then ${c.error ? "the error names the file" : "there is no error"}`, () => {
      const err = verifyFile(expected, c.actual);
      if (c.error) expect(err?.message).toMatch(c.error);
      else expect(err).toBeUndefined();
    });
  }
});
