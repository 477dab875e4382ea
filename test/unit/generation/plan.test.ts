import { describe, expect, it } from "vitest";
import { PlanError, parsePlan, parsePlanText, quorumOf } from "../../../src/generation/plan.js";

const valid = () => ({
  index: "docs",
  from: {
    generation: "g-aaaaaaaaaaaa",
    fingerprint: "aaaa",
    shards: [{ name: "shard-0", replicas: ["http://127.0.0.1:1/"] }],
  },
  to: {
    generation: "g-bbbbbbbbbbbb",
    fingerprint: "bbbb",
    shards: [
      { name: "shard-0", replicas: ["http://127.0.0.1:2", "http://127.0.0.1:3"] },
      { name: "shard-1", replicas: ["http://127.0.0.1:4", "http://127.0.0.1:5"] },
    ],
    encoder: { url: "http://127.0.0.1:9" },
  },
  writeQuorum: "all",
  maxDocumentsPerSecond: 200,
});

type Raw = Record<string, unknown>;
const errorOf = (raw: unknown): string => {
  try {
    parsePlan(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(PlanError);
    return (err as Error).message;
  }
  throw new Error("expected the plan to be refused");
};

describe("parsePlan", () => {
  it("when the plan is valid, then defaults are applied and URLs lose their trailing slash", () => {
    const plan = parsePlan(valid());
    expect(plan.batchSize).toBe(64);
    expect(plan.from.shards[0]?.replicas).toEqual(["http://127.0.0.1:1"]);
    expect(plan.latencyGuard).toBeUndefined();
  });

  it("when latencyGuard is set without an interval, then it reads every 5 s", () => {
    const plan = parsePlan({
      ...valid(),
      latencyGuard: { metricsUrl: "http://127.0.0.1:7/metrics", maxP99Ms: 300 },
    });
    expect(plan.latencyGuard).toMatchObject({ intervalSeconds: 5, maxP99Ms: 300 });
  });

  const cases: [string, (p: Raw) => unknown, RegExp][] = [
    ["an unknown top-level field", (p) => ({ ...p, maxDocsPerSecond: 5 }), /maxDocsPerSecond/],
    ["a missing index", ({ index: _, ...p }) => p, /index: /],
    ["a zero rate", (p) => ({ ...p, maxDocumentsPerSecond: 0 }), /maxDocumentsPerSecond: must be > 0/],
    [
      "a rate given as text",
      (p) => ({ ...p, maxDocumentsPerSecond: "fast" }),
      /maxDocumentsPerSecond: must be a number/,
    ],
    ["a bad writeQuorum", (p) => ({ ...p, writeQuorum: "most" }), /writeQuorum: must be "all" or a number/],
    [
      "a writeQuorum above a shard's replicas",
      (p) => ({ ...p, writeQuorum: 3 }),
      /writeQuorum: 3 exceeds the 2 replica\(s\) of to.shards.0/,
    ],
    ["a batchSize of 0", (p) => ({ ...p, batchSize: 0 }), /batchSize: /],
    [
      "a replica that is not a URL",
      (p) => ({ ...p, from: { ...(p.from as Raw), shards: [{ name: "s", replicas: ["shard-0:8080"] }] } }),
      /from\.shards\.0\.replicas\.0: must be an http\(s\) URL/,
    ],
    [
      "no target shards",
      (p) => ({ ...p, to: { ...(p.to as Raw), shards: [] } }),
      /to\.shards: needs at least one shard/,
    ],
    ["no encoder", (p) => ({ ...p, to: { ...(p.to as Raw), encoder: undefined } }), /to\.encoder: /],
    [
      "the same fingerprint on both sides",
      (p) => ({ ...p, to: { ...(p.to as Raw), fingerprint: "aaaa" } }),
      /to\.fingerprint: equals from\.fingerprint/,
    ],
    [
      "the same generation on both sides",
      (p) => ({ ...p, to: { ...(p.to as Raw), generation: "g-aaaaaaaaaaaa" } }),
      /to\.generation: .*new generation/,
    ],
    [
      "a shard name twice",
      (p) => ({
        ...p,
        from: {
          ...(p.from as Raw),
          shards: [
            { name: "a", replicas: ["http://x:1"] },
            { name: "a", replicas: ["http://x:2"] },
          ],
        },
      }),
      /from\.shards\.1\.name: "a" appears twice/,
    ],
    [
      "a guard without its SLO",
      (p) => ({ ...p, latencyGuard: { metricsUrl: "http://x:1/metrics" } }),
      /latencyGuard\.maxP99Ms/,
    ],
  ];
  for (const [what, edit, message] of cases) {
    it(`when the plan has ${what}, then it is refused naming the field`, () => {
      expect(errorOf(edit(valid()))).toMatch(message);
    });
  }

  it("when the file is not JSON, then the error names the source", () => {
    expect(() => parsePlanText("{", "plan p.json")).toThrow(/plan p.json is not valid JSON/);
  });
});

describe("quorumOf", () => {
  it.each([
    ["all", 3, 3],
    [2, 3, 2],
    [5, 3, 3],
  ] as const)("when writeQuorum is %s of %i replicas, then %i must acknowledge", (q, n, want) => {
    expect(quorumOf(q, n)).toBe(want);
  });
});
