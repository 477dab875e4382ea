import { describe, expect, it } from "vitest";
import { encodePoints } from "../../../src/router/shard-client.js";
import { decodeVector, float32ToLeBytes, leBytesToFloat32 } from "../../../src/router/vector-codec.js";

describe("encodePoints", () => {
  it("when two points are encoded, then the body is header length, header JSON, then the vectors as float32 LE", () => {
    const body = encodePoints([
      { id: "a", vector: Float32Array.of(1, 2), metadata: { x: 1 } },
      { id: "b", vector: Float32Array.of(3, 4), text: "t" },
    ]);
    const headerLength = body.readUInt32LE(0);
    const header = JSON.parse(body.subarray(4, 4 + headerLength).toString("utf8"));
    expect(header).toEqual({
      points: [
        { id: "a", metadata: { x: 1 } },
        { id: "b", text: "t" },
      ],
    });
    const rest = body.subarray(4 + headerLength);
    expect([0, 4, 8, 12].map((o) => rest.readFloatLE(o))).toEqual([1, 2, 3, 4]);
    expect(rest.byteLength).toBe(16);
  });
});

describe("decodeVector", () => {
  it("when a base64 vector round-trips, then the values are equal", () => {
    const v = Float32Array.of(0.5, -1.25, 3);
    expect(Array.from(decodeVector(float32ToLeBytes(v).toString("base64"), 3))).toEqual([0.5, -1.25, 3]);
    expect(Array.from(leBytesToFloat32(float32ToLeBytes(v)))).toEqual([0.5, -1.25, 3]);
  });

  it.each([
    { name: "too few numbers", value: [1, 2], error: /vector: expected 3 numbers, got 2/ },
    {
      name: "base64 of the wrong length",
      value: Buffer.alloc(8).toString("base64"),
      error: /expected 3 float32 values/,
    },
    { name: "not base64", value: "@@@", error: /base64/ },
    { name: "a value beyond float32", value: [1, 1e39, 2], error: /vector\[1\]: must be a finite number/ },
  ])("when the vector has $name, then it is refused naming the field", ({ value, error }) => {
    expect(() => decodeVector(value, 3)).toThrow(error);
  });
});
