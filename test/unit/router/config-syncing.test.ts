import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../../src/router/config.js";

const fp = "ab".repeat(32);
const withShard = (shard: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  index: "docs",
  generation: "g1",
  fingerprint: fp,
  dimension: 384,
  metric: "cosine",
  encoder: null,
  shards: [shard],
  ...extra,
});
const a = "http://127.0.0.1:9001";
const b = "http://127.0.0.1:9002";

describe("parseRouterConfig: syncing replicas", () => {
  it("when a shard lists a syncing replica among its replicas, then it is kept (trailing slash removed) and still counts for the write quorum", () => {
    const c = parseRouterConfig(
      withShard({ name: "s0", replicas: [a, b], syncing: [`${b}/`] }, { writeQuorum: 2 }),
    );
    expect(c.generation.shards[0]).toEqual({ name: "s0", replicas: [a, b], syncing: [b] });
  });

  it.each([
    [
      "a syncing URL that is not a replica",
      { name: "s0", replicas: [a], syncing: [b] },
      'shard "s0" lists syncing replica(s) http://127.0.0.1:9002 that are not among its replicas',
    ],
    [
      "every replica syncing",
      { name: "s0", replicas: [a, b], syncing: [a, b] },
      'every replica of shard "s0" is syncing, so none could answer a query',
    ],
  ])("when %s, then the config is refused saying so", (_what, shard, message) => {
    expect(() => parseRouterConfig(withShard(shard))).toThrow(message);
  });
});
