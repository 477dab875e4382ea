// The shard's hand-checked octet-stream query against decodeBinaryQuery (zod): for the query strings
// it accepts both give the same ParsedQuery; everything else is left to the strict decoder.
import { parse } from "node:querystring";
import { describe, expect, it } from "vitest";
import { IdTable } from "../../../src/shard/id-table.js";
import { isOctetStream } from "../../../src/shard/query-listener.js";
import { decodeBinaryQuery, decodeBinaryQueryFast, float32ToBytes } from "../../../src/shard/wire.js";

const dim = 4;
const body = float32ToBytes(new Float32Array([0.1, 0.2, 0.3, 0.4]));

describe("decodeBinaryQueryFast", () => {
  it.each([
    "",
    "k=10",
    "k=3&includeMetadata=false",
    "k=10&includeText=false&includeMetadata=true&ef=32",
    "includeText=1&includeMetadata=0",
    "k=1000&ef=10000",
    "k=1&ef=1",
    "k=007",
    "k=10&exact=true",
    "k=10&includeMetadata=false&exact=0",
  ])("when the query string is %j, then it agrees with decodeBinaryQuery", (qs) => {
    const params = parse(qs);
    const fast = decodeBinaryQueryFast(body, params, dim, "cosine");
    expect(fast).toBeDefined();
    expect(fast).toEqual(decodeBinaryQuery(body, params, dim, "cosine"));
  });

  it.each([
    "k=0",
    "k=1001",
    "k=-1",
    "k=2.5",
    "k=ten",
    "k=",
    "ef=10001",
    "k=3&k=4",
    "includeText=yes",
    "exact=yes",
    "exact=true&exact=false",
    'filter={"lang":"en"}',
    "topK=3",
  ])("when the query string is %j, then the fast path declines", (qs) => {
    expect(decodeBinaryQueryFast(body, parse(qs), dim, "cosine")).toBeUndefined();
  });

  it("when the body has the wrong length, then the 400 is the strict decoder's", () => {
    const short = body.subarray(0, 8);
    const params = parse("k=3");
    expect(() => decodeBinaryQueryFast(short, params, dim, "cosine")).toThrow(
      /body: expected 4 float32 values/,
    );
    expect(() => decodeBinaryQuery(short, params, dim, "cosine")).toThrow(/body: expected 4 float32 values/);
  });
});

describe("isOctetStream", () => {
  it.each([
    ["application/octet-stream", true],
    ["Application/Octet-Stream; foo=bar", true],
    ["application/json", false],
    ["application/x-embedops-points", false],
    [undefined, false],
  ])("when Content-Type is %s, then %s", (type, expected) => {
    expect(isOctetStream(type)).toBe(expected);
  });
});

describe("IdTable", () => {
  it("when ids are set, replaced and deleted, then lookups, size and the byte estimate follow", () => {
    const t = new IdTable();
    t.set(0, "a");
    t.set(5, "bbb");
    expect([t.get(0), t.get(5), t.get(3), t.size]).toEqual(["a", "bbb", undefined, 2]);
    const before = t.estimatedBytes();
    t.set(5, "bbb");
    expect(t.size).toBe(2);
    expect(t.estimatedBytes()).toBe(before);
    t.delete(0);
    t.delete(0);
    t.delete(99);
    expect([t.get(0), t.size]).toEqual([undefined, 1]);
    expect(t.estimatedBytes()).toBeLessThan(before);
  });
});
