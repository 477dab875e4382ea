import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../../src/router/config.js";

const fp = "ab".repeat(32);
const inline = {
  index: "docs",
  generation: "g1",
  fingerprint: fp,
  dimension: 384,
  metric: "cosine",
  encoder: { url: "http://127.0.0.1:9000/" },
  shards: [
    { name: "s0", replicas: ["http://127.0.0.1:9001", "http://127.0.0.1:9002"] },
    { name: "s1", replicas: ["http://127.0.0.1:9003", "http://127.0.0.1:9004"] },
  ],
};

describe("parseRouterConfig", () => {
  it("when the inline shape is valid, then defaults are applied and URLs lose their trailing slash", () => {
    const c = parseRouterConfig(inline);
    expect(c.timeoutMs).toBe(2000);
    expect(c.writeQuorum).toBe("all");
    expect(c.hedge).toEqual({ enabled: true, minDelayMs: 2, minSamples: 20 });
    expect(c.generation.name).toBe("g1");
    expect(c.generation.encoder).toEqual({ url: "http://127.0.0.1:9000" });
  });

  it("when the list shape holds one generation, then it is the active one and there is no candidate", () => {
    const { index, generation, ...gen } = inline;
    const c = parseRouterConfig({ index, generations: [{ name: generation, ...gen }] });
    expect(c.generation.name).toBe("g1");
    expect(c.generation.role).toBe("active");
    expect(c.generation.queryWeight).toBe(0);
    expect(c.generation.shards).toHaveLength(2);
    expect(c.candidate).toBeUndefined();
  });

  it("when the encoder is null, then the config is valid (vector-only index)", () => {
    expect(parseRouterConfig({ ...inline, encoder: null }).generation.encoder).toBeNull();
  });

  it.each([
    { name: "an unknown field", patch: { shardz: [] }, error: /shardz/ },
    { name: "a bad metric", patch: { metric: "dot" }, error: /metric/ },
    {
      name: "a fingerprint with spaces",
      patch: { fingerprint: "not a hash" },
      error: /fingerprint: must be 1-256 characters/,
    },
    { name: "no shards", patch: { shards: [] }, error: /shards: needs at least one shard/ },
    {
      name: "a replica that is not a URL",
      patch: { shards: [{ name: "s0", replicas: ["nope"] }] },
      error: /shards\.0\.replicas\.0/,
    },
    {
      name: "a shard without replicas",
      patch: { shards: [{ name: "s0", replicas: [] }] },
      error: /replicas: needs at least one/,
    },
    {
      name: "duplicate shard names",
      patch: {
        shards: [
          { name: "s", replicas: ["http://a"] },
          { name: "s", replicas: ["http://b"] },
        ],
      },
      error: /"s" appears twice/,
    },
    {
      name: "a write quorum above the replica count",
      patch: { writeQuorum: 3 },
      error: /writeQuorum 3 is more than the 2/,
    },
    { name: "a zero timeout", patch: { timeoutMs: 0 }, error: /timeoutMs/ },
    { name: "a string dimension", patch: { dimension: "384" }, error: /dimension/ },
  ])("when the config has $name, then it is refused naming the field", ({ patch, error }) => {
    expect(() => parseRouterConfig({ ...inline, ...patch })).toThrow(error);
  });
});
