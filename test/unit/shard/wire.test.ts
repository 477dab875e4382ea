import { describe, expect, it } from "vitest";
import type { HttpError } from "../../../src/shard/errors.js";
import {
  decodeBinaryPoints,
  decodeBinaryQuery,
  decodeJsonPoints,
  decodeJsonQuery,
  encodeBinaryPoints,
  float32ToBytes,
} from "../../../src/shard/wire.js";

const dim = 3;
const b64 = (xs: number[]) => float32ToBytes(Float32Array.from(xs)).toString("base64");

function fieldOf(fn: () => unknown): { status: number; field: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as HttpError;
    return { status: e.status, field: e.field, message: e.message };
  }
  throw new Error("expected a 400, got success");
}

describe("JSON points", () => {
  it("when vectors come as number arrays and as base64, then both decode to the same float32 values", () => {
    const pts = decodeJsonPoints(
      {
        points: [
          { id: "a", vector: [0.5, -1, 2], metadata: { k: 1 }, text: "t" },
          { id: "b", vector: b64([0.5, -1, 2]) },
        ],
      },
      dim,
      "l2",
    );
    expect(Array.from(pts[0]?.vector ?? [])).toEqual([0.5, -1, 2]);
    expect(Array.from(pts[1]?.vector ?? [])).toEqual([0.5, -1, 2]);
    expect(pts[0]?.metadata).toEqual({ k: 1 });
    expect(pts[1]?.metadata).toBeNull();
  });

  const bad: { name: string; body: unknown; field: string; metric?: "cosine" | "l2" }[] = [
    {
      name: "the 4th point has the wrong dimension",
      body: { points: [0, 1, 2, 3].map((i) => ({ id: `p${i}`, vector: i === 3 ? [1, 2] : [1, 2, 3] })) },
      field: "points[3].vector",
    },
    {
      name: "a base64 vector has the wrong length",
      body: { points: [{ id: "a", vector: b64([1, 2]) }] },
      field: "points[0].vector",
    },
    {
      name: "a base64 vector is not base64",
      body: { points: [{ id: "a", vector: "!!!!" }] },
      field: "points[0].vector",
    },
    {
      name: "a vector is an object",
      body: { points: [{ id: "a", vector: { x: 1 } }] },
      field: "points[0].vector",
    },
    {
      name: "a point has an unknown field",
      body: { points: [{ id: "a", vector: [1, 2, 3], colour: 1 }] },
      field: "points[0].colour",
    },
    {
      name: "the body has an unknown field",
      body: { points: [{ id: "a", vector: [1, 2, 3] }], upsert: true },
      field: "upsert",
    },
    { name: "an id is empty", body: { points: [{ id: "", vector: [1, 2, 3] }] }, field: "points[0].id" },
    {
      name: "an id is too long",
      body: { points: [{ id: "x".repeat(257), vector: [1, 2, 3] }] },
      field: "points[0].id",
    },
    {
      name: "metadata is an array",
      body: { points: [{ id: "a", vector: [1, 2, 3], metadata: [1] }] },
      field: "points[0].metadata",
    },
    { name: "the batch is empty", body: { points: [] }, field: "points" },
    {
      name: "a value overflows float32",
      body: { points: [{ id: "a", vector: [1e39, 0, 0] }] },
      field: "points[0].vector",
    },
    {
      name: "a cosine vector is zero",
      body: { points: [{ id: "a", vector: [0, 0, 0] }] },
      field: "points[0].vector",
      metric: "cosine",
    },
  ];
  for (const c of bad) {
    it(`when ${c.name}, then a 400 names ${c.field}`, () => {
      const e = fieldOf(() => decodeJsonPoints(c.body, dim, c.metric ?? "l2"));
      expect(e.status).toBe(400);
      expect(e.field).toBe(c.field);
      expect(e.message.startsWith(`${c.field}: `)).toBe(true);
    });
  }
});

describe("binary points", () => {
  it("when encoded and decoded, then ids, metadata, text and vectors survive", () => {
    const body = encodeBinaryPoints([
      { id: "a", vector: [1, 2, 3], metadata: { x: "y" }, text: "hello" },
      { id: "b", vector: [4, 5, 6] },
    ]);
    const pts = decodeBinaryPoints(body, dim, "l2");
    expect(pts.map((p) => [p.id, Array.from(p.vector), p.metadata, p.text])).toEqual([
      ["a", [1, 2, 3], { x: "y" }, "hello"],
      ["b", [4, 5, 6], null, null],
    ]);
  });

  it("when the body is an unaligned slice of a larger buffer, then it still decodes", () => {
    const body = encodeBinaryPoints([{ id: "a", vector: [1, 2, 3] }]);
    const shifted = Buffer.concat([Buffer.from([0]), body]).subarray(1);
    expect(Array.from(decodeBinaryPoints(shifted, dim, "l2")[0]?.vector ?? [])).toEqual([1, 2, 3]);
  });

  const bad: { name: string; body: () => Buffer; field: string }[] = [
    { name: "the body is shorter than the length prefix", body: () => Buffer.from([1, 0]), field: "body" },
    {
      name: "the header length runs past the end",
      body: () => {
        const b = Buffer.alloc(8);
        b.writeUInt32LE(100, 0);
        return b;
      },
      field: "header",
    },
    {
      name: "the header is not JSON",
      body: () => {
        const h = Buffer.from("{nope");
        const len = Buffer.alloc(4);
        len.writeUInt32LE(h.length, 0);
        return Buffer.concat([len, h]);
      },
      field: "header",
    },
    {
      name: "a header point has an unknown field",
      body: () => {
        const h = Buffer.from(JSON.stringify({ points: [{ id: "a", vector: [1] }] }));
        const len = Buffer.alloc(4);
        len.writeUInt32LE(h.length, 0);
        return Buffer.concat([len, h, Buffer.alloc(12)]);
      },
      field: "header.points[0].vector",
    },
    {
      name: "the vectors are one float short",
      body: () => encodeBinaryPoints([{ id: "a", vector: [1, 2, 3] }]).subarray(0, -4),
      field: "vectors",
    },
  ];
  for (const c of bad) {
    it(`when ${c.name}, then a 400 names ${c.field}`, () => {
      const e = fieldOf(() => decodeBinaryPoints(c.body(), dim, "l2"));
      expect(e.status).toBe(400);
      expect(e.field).toBe(c.field);
    });
  }
});

describe("queries", () => {
  it("when a JSON query omits options, then k=10, metadata on, text off, not exact", () => {
    const q = decodeJsonQuery({ vector: [1, 2, 3] }, dim, "l2");
    expect([q.k, q.ef, q.includeMetadata, q.includeText, q.filter.size, q.exact]).toEqual([
      10,
      undefined,
      true,
      false,
      0,
      false,
    ]);
  });

  it("when a query asks for exact: true (JSON body or query string), then it is exact", () => {
    expect(decodeJsonQuery({ vector: [1, 2, 3], exact: true }, dim, "l2").exact).toBe(true);
    const body = float32ToBytes(Float32Array.from([1, 2, 3]));
    expect(decodeBinaryQuery(body, { exact: "true" }, dim, "l2").exact).toBe(true);
    expect(decodeBinaryQuery(body, { exact: "0" }, dim, "l2").exact).toBe(false);
  });

  it("when a binary query carries options in the query string, then they are parsed", () => {
    const q = decodeBinaryQuery(
      float32ToBytes(Float32Array.from([1, 2, 3])),
      { k: "5", ef: "100", filter: '{"lang":{"in":["en"]}}', includeText: "true" },
      dim,
      "l2",
    );
    expect([q.k, q.ef, q.includeText, q.filter.get("lang")]).toEqual([5, 100, true, { in: ["en"] }]);
  });

  const bad: { name: string; run: () => unknown; field: string }[] = [
    { name: "k is 0", run: () => decodeJsonQuery({ vector: [1, 2, 3], k: 0 }, dim, "l2"), field: "k" },
    { name: "k is 1001", run: () => decodeJsonQuery({ vector: [1, 2, 3], k: 1001 }, dim, "l2"), field: "k" },
    {
      name: "k is fractional",
      run: () => decodeJsonQuery({ vector: [1, 2, 3], k: 2.5 }, dim, "l2"),
      field: "k",
    },
    {
      name: "ef is 10001",
      run: () => decodeJsonQuery({ vector: [1, 2, 3], ef: 10001 }, dim, "l2"),
      field: "ef",
    },
    {
      name: "the filter has an unknown operator",
      run: () => decodeJsonQuery({ vector: [1, 2, 3], filter: { lang: { eq: 1 } } }, dim, "l2"),
      field: "filter.lang",
    },
    {
      name: "an unknown field is sent",
      run: () => decodeJsonQuery({ vector: [1, 2, 3], topK: 3 }, dim, "l2"),
      field: "topK",
    },
    {
      name: "the vector is too short",
      run: () => decodeJsonQuery({ vector: [1, 2] }, dim, "l2"),
      field: "vector",
    },
    {
      name: "a binary query's k is out of range",
      run: () => decodeBinaryQuery(float32ToBytes(Float32Array.from([1, 2, 3])), { k: "0" }, dim, "l2"),
      field: "k",
    },
    {
      name: "a binary query's filter is not JSON",
      run: () => decodeBinaryQuery(float32ToBytes(Float32Array.from([1, 2, 3])), { filter: "{" }, dim, "l2"),
      field: "filter",
    },
    {
      name: "a binary query's filter is malformed",
      run: () =>
        decodeBinaryQuery(
          float32ToBytes(Float32Array.from([1, 2, 3])),
          { filter: '{"a":{"in":3}}' },
          dim,
          "l2",
        ),
      field: "filter.a",
    },
    {
      name: "a binary query body is not whole floats",
      run: () => decodeBinaryQuery(Buffer.alloc(7), {}, dim, "l2"),
      field: "body",
    },
    {
      name: "exact is not a boolean",
      run: () => decodeJsonQuery({ vector: [1, 2, 3], exact: "yes" }, dim, "l2"),
      field: "exact",
    },
    {
      name: "a binary query's exact is not a boolean",
      run: () => decodeBinaryQuery(float32ToBytes(Float32Array.from([1, 2, 3])), { exact: "yes" }, dim, "l2"),
      field: "exact",
    },
    {
      name: "a binary query has an unknown parameter",
      run: () => decodeBinaryQuery(float32ToBytes(Float32Array.from([1, 2, 3])), { topk: "3" }, dim, "l2"),
      field: "topk",
    },
  ];
  for (const c of bad) {
    it(`when ${c.name}, then a 400 names ${c.field}`, () => {
      const e = fieldOf(c.run);
      expect(e.status).toBe(400);
      expect(e.field).toBe(c.field);
    });
  }
});
