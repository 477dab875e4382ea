import { describe, expect, it } from "vitest";
import { parseIdx } from "../../../bench/index/idx.js";
import { glossParts } from "../../../bench/index/text-corpus.js";

function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const header = Buffer.alloc(4 + dims.length * 4);
  header.writeUInt8(type, 2);
  header.writeUInt8(dims.length, 3);
  for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + i * 4);
  return new Uint8Array(Buffer.concat([header, Buffer.from(data)]));
}

describe("parseIdx", () => {
  it("reads big-endian dims and the unsigned bytes after them", () => {
    const r = parseIdx(idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]));
    expect(r.dims).toEqual([2, 2, 3]);
    expect(Array.from(r.data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  });

  it("reads a label file (rank 1)", () => {
    expect(parseIdx(idx([3], [7, 8, 9])).dims).toEqual([3]);
  });

  it("refuses a file whose data does not match its dims", () => {
    expect(() => parseIdx(idx([2, 2], [1, 2, 3]))).toThrow(/need 4 bytes of data, file has 3/);
  });

  it("refuses element types other than unsigned byte", () => {
    expect(() => parseIdx(idx([1], [0, 0, 0, 0], 0x0d))).toThrow(/not unsigned byte/);
  });

  it("refuses a bad magic and a truncated header", () => {
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]))).toThrow(/two zero bytes/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0]))).toThrow(/truncated/);
  });
});

describe("glossParts", () => {
  const line =
    '00001740 03 n 01 entity 0 003 ~ 00001930 n 0000 | that which is perceived or known; a thing "the entity was  present" ; "another example"';

  it("splits a WordNet data line into its definition and its quoted examples", () => {
    expect(glossParts(line)).toEqual({
      definition: "that which is perceived or known; a thing",
      examples: ["the entity was present", "another example"],
    });
  });

  it("skips the licence header lines, which start with two spaces", () => {
    expect(glossParts("  1 This software and database is being provided | x")).toEqual({
      definition: undefined,
      examples: [],
    });
  });
});
