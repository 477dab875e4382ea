// The list shape with an active and a candidate generation: what an index moving to a new model is
// served with. Every rule is one row that names the field and how to fix it.
import { describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../../src/router/config.js";

const fpOld = "ab".repeat(32);
const fpNew = "cd".repeat(32);
const shards = (port: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `s${i}`, replicas: [`http://127.0.0.1:${port + i}`] }));
const active = {
  name: "g-old",
  fingerprint: fpOld,
  dimension: 384,
  metric: "cosine",
  encoder: { url: "http://127.0.0.1:9000" },
  shards: shards(9100, 2),
};
const candidate = {
  name: "g-new",
  role: "candidate",
  queryWeight: 30,
  fingerprint: fpNew,
  dimension: 768,
  metric: "cosine",
  encoder: { url: "http://127.0.0.1:9001" },
  shards: shards(9200, 3),
};
const config = (generations: unknown[], extra: Record<string, unknown> = {}) => ({
  index: "docs",
  generations,
  ...extra,
});

describe("parseRouterConfig: two generations", () => {
  it("when an active and a candidate are listed, then both are kept with their own shards and the candidate's query share", () => {
    const c = parseRouterConfig(config([active, candidate]));
    expect(c.generation).toMatchObject({ name: "g-old", role: "active", queryWeight: 0, fingerprint: fpOld });
    expect(c.candidate).toMatchObject({ name: "g-new", role: "candidate", queryWeight: 30, dimension: 768 });
    expect(c.candidate?.shards).toHaveLength(3);
    expect(c.generation.shards).toHaveLength(2);
  });

  it("when the candidate comes first in the list, then the roles still decide which is active", () => {
    const c = parseRouterConfig(config([candidate, active]));
    expect(c.generation.name).toBe("g-old");
    expect(c.candidate?.name).toBe("g-new");
  });

  it("when the candidate has no queryWeight, then it takes writes only (weight 0)", () => {
    const { queryWeight: _w, ...noWeight } = candidate;
    expect(parseRouterConfig(config([active, noWeight])).candidate?.queryWeight).toBe(0);
  });

  it.each([
    {
      name: "three generations",
      value: config([active, candidate, { ...candidate, name: "g-3", fingerprint: "ef".repeat(32) }]),
      error: /generations: at most two: the active generation and one candidate/,
    },
    { name: "no generation", value: config([]), error: /generations: needs one generation/ },
    {
      name: "two active generations",
      value: config([active, { ...candidate, role: "active", queryWeight: undefined }]),
      error:
        /generations: exactly one generation must have role "active".*g-old and g-new both have role "active"/,
    },
    {
      name: "two candidates and no active",
      value: config([
        { ...active, role: "candidate" },
        { ...candidate, name: "g-2" },
      ]),
      error: /exactly one generation must have role "active".*none of g-old, g-2/,
    },
    {
      name: "a single candidate",
      value: config([candidate]),
      error: /exactly one generation must have role "active"/,
    },
    {
      name: "the same name twice",
      value: config([active, { ...candidate, name: "g-old" }]),
      error: /generations\.1\.name: generations g-old \(active\) and g-old \(candidate\) have the same name/,
    },
    {
      name: "the same fingerprint twice",
      value: config([active, { ...candidate, fingerprint: fpOld }]),
      error: new RegExp(
        `generations\\.1\\.fingerprint: generations g-old and g-new have the same fingerprint ${fpOld}.*encoder\\.canary`,
      ),
    },
    {
      name: "a queryWeight on the active generation",
      value: config([{ ...active, queryWeight: 50 }, candidate]),
      error: /generations\.0\.queryWeight: only the candidate has a query share.*generation g-old/,
    },
    {
      name: "a queryWeight of 0 on the active generation",
      value: config([{ ...active, queryWeight: 0 }]),
      error: /generations\.0\.queryWeight: only the candidate/,
    },
    {
      name: "a queryWeight above 100",
      value: config([active, { ...candidate, queryWeight: 101 }]),
      error: /generations\.1\.queryWeight: must be an integer percent 0-100/,
    },
    {
      name: "a fractional queryWeight",
      value: config([active, { ...candidate, queryWeight: 12.5 }]),
      error: /generations\.1\.queryWeight: must be an integer percent/,
    },
    {
      name: "an unknown role",
      value: config([active, { ...candidate, role: "canary" }]),
      error: /generations\.1\.role: must be "active" or "candidate"/,
    },
    {
      name: "the old weight field",
      value: config([{ ...active, weight: 100 }]),
      error: /generations\.0\.weight: was replaced by role .* and queryWeight/,
    },
    {
      name: "a duplicate shard name in the candidate",
      value: config([active, { ...candidate, shards: [...shards(9200, 1), ...shards(9300, 1)] }]),
      error: /generations\.1\.shards: shard name "s0" appears twice/,
    },
    {
      name: "a write quorum above the candidate's replica count",
      value: config(
        [
          { ...active, shards: [{ name: "s0", replicas: ["http://a", "http://b"] }] },
          { ...candidate, shards: [{ name: "s0", replicas: ["http://c"] }] },
        ],
        { writeQuorum: 2 },
      ),
      error: /writeQuorum 2 is more than the 1 replica\(s\) of the smallest shard of generation g-new/,
    },
    {
      name: "a candidate encoder canary named like its stable revision",
      value: config([
        active,
        {
          ...candidate,
          encoder: { url: "http://e", canary: { url: "http://f", revision: "stable", weight: 5 } },
        },
      ]),
      error: /generations\.1\.encoder\.canary\.revision "stable"/,
    },
  ])("when the list has $name, then it is refused naming the field", ({ value, error }) => {
    expect(() => parseRouterConfig(value)).toThrow(error);
  });
});
