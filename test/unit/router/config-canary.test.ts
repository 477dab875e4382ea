import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../../src/router/config.js";

const inline = {
  index: "docs",
  generation: "g1",
  fingerprint: "ab".repeat(32),
  dimension: 384,
  metric: "cosine",
  encoder: { url: "http://127.0.0.1:9000" },
  shards: [{ name: "s0", replicas: ["http://127.0.0.1:9001"] }],
};

describe("parseRouterConfig: encoder revisions", () => {
  it("when the encoder names a revision and a canary, then both are kept as written", () => {
    const c = parseRouterConfig({
      ...inline,
      encoder: {
        url: "http://127.0.0.1:9000/",
        revision: "5d8f7c",
        canary: { url: "http://127.0.0.1:9100/", revision: "a91b2e", weight: 10 },
      },
    });
    expect(c.generation.encoder).toEqual({
      url: "http://127.0.0.1:9000",
      revision: "5d8f7c",
      canary: { url: "http://127.0.0.1:9100", revision: "a91b2e", weight: 10 },
    });
  });

  it("when the encoder is only a URL (today's config), then it has no revision and no canary", () => {
    const c = parseRouterConfig(inline);
    expect(c.generation.encoder).toEqual({ url: "http://127.0.0.1:9000" });
    expect(c.generation.encoder?.canary).toBeUndefined();
  });

  it.each([
    { name: "a weight above 100", canary: { weight: 101 }, error: /encoder\.canary\.weight/ },
    { name: "a fractional weight", canary: { weight: 2.5 }, error: /encoder\.canary\.weight/ },
    { name: "no revision", canary: { revision: undefined }, error: /encoder\.canary\.revision/ },
    {
      name: "a revision with spaces",
      canary: { revision: "a b" },
      error: /encoder\.canary\.revision: must be 1-64/,
    },
    { name: "an unknown field", canary: { percent: 5 }, error: /percent/ },
  ])("when the canary has $name, then the config is refused naming the field", ({ canary, error }) => {
    const encoder = {
      url: "http://127.0.0.1:9000",
      canary: { url: "http://127.0.0.1:9100", revision: "r2", weight: 10, ...canary },
    };
    expect(() => parseRouterConfig({ ...inline, encoder })).toThrow(error);
  });

  it.each([
    { name: "the stable revision's name", encoder: { revision: "r1" }, canary: "r1" },
    { name: "the default stable name", encoder: {}, canary: "stable" },
  ])("when the canary's revision is $name, then the config is refused (their metrics would merge)", (t) => {
    const encoder = {
      url: "http://127.0.0.1:9000",
      ...t.encoder,
      canary: { url: "http://127.0.0.1:9100", revision: t.canary, weight: 10 },
    };
    expect(() => parseRouterConfig({ ...inline, encoder })).toThrow(/must differ/);
  });
});
