import { describe, expect, it } from "vitest";
import { flattenVectors, packRows, unpackVectors } from "../../../src/encoder/worker-protocol.js";

describe("worker protocol packing", () => {
  it("when rows of different lengths are packed, then ids concatenate and lengths mark the rows", () => {
    const packed = packRows([
      [101, 7, 102],
      [101, 102],
      [101, 5, 6, 7, 102],
    ]);
    expect(Array.from(packed.ids)).toEqual([101, 7, 102, 101, 102, 101, 5, 6, 7, 102]);
    expect(Array.from(packed.lengths)).toEqual([3, 2, 5]);
  });

  it("when no rows are packed, then both arrays are empty", () => {
    const packed = packRows([]);
    expect(packed.ids).toHaveLength(0);
    expect(packed.lengths).toHaveLength(0);
  });

  it("when vectors are flattened and unpacked, then each row comes back in order as a view", () => {
    const rows = [new Float32Array([1, 2]), new Float32Array([3, 4]), new Float32Array([5, 6])];
    const flat = flattenVectors(rows, 2);
    const back = unpackVectors(flat, 3, 2);
    expect(back.map((v) => Array.from(v))).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(back[1]!.buffer).toBe(flat.buffer);
    expect(back[1]!.byteOffset).toBe(2 * Float32Array.BYTES_PER_ELEMENT);
  });

  it("when the worker returns the wrong number of values, then unpacking says how many it got", () => {
    expect(() => unpackVectors(new Float32Array(5), 2, 3)).toThrow(
      /returned 5 values for 2 rows of dimension 3/,
    );
  });
});
