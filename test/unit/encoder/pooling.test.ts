import { describe, expect, it } from "vitest";
import { clsPool, cosine, l2Normalize, meanPool, pool } from "../../../src/encoder/pooling.js";

// hidden states are written as nested [batch][seq][dim] here for readability and flattened for the
// functions, which take onnxruntime's flat row-major buffer.
function flat(rows: number[][][]): {
  hidden: Float32Array;
  shape: { batch: number; seq: number; dim: number };
} {
  const batch = rows.length;
  const seq = rows[0]?.length ?? 0;
  const dim = rows[0]?.[0]?.length ?? 0;
  return { hidden: Float32Array.from(rows.flat(2)), shape: { batch, seq, dim } };
}

function rounded(rows: Float32Array[]): number[][] {
  return rows.map((r) => Array.from(r, (x) => Math.round(x * 1e6) / 1e6));
}

describe("meanPool", () => {
  const cases: { name: string; hidden: number[][][]; mask: number[]; want: number[][] }[] = [
    {
      name: "when every token is attended, then the row is the plain mean",
      hidden: [
        [
          [1, 2],
          [3, 4],
        ],
      ],
      mask: [1, 1],
      want: [[2, 3]],
    },
    {
      name: "when the tail is padding, then padded positions are ignored",
      hidden: [
        [
          [1, 1],
          [3, 5],
          [100, -100],
        ],
      ],
      mask: [1, 1, 0],
      want: [[2, 3]],
    },
    {
      name: "when rows have different lengths, then each row divides by its own count",
      hidden: [
        [
          [2, 0],
          [4, 0],
          [6, 0],
        ],
        [
          [9, 9],
          [7, 7],
          [7, 7],
        ],
      ],
      mask: [1, 1, 1, 1, 0, 0],
      want: [
        [4, 0],
        [9, 9],
      ],
    },
    {
      name: "when a mask hole sits in the middle, then only that position is skipped",
      hidden: [
        [
          [1, 0],
          [50, 50],
          [3, 2],
        ],
      ],
      mask: [1, 0, 1],
      want: [[2, 1]],
    },
    {
      name: "when a row is all padding, then it is a zero vector, not NaN",
      hidden: [
        [
          [1, 2],
          [3, 4],
        ],
      ],
      mask: [0, 0],
      want: [[0, 0]],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { hidden, shape } = flat(c.hidden);
      expect(rounded(meanPool(hidden, shape, c.mask))).toEqual(c.want);
    });
  }

  it("when the buffer does not match the shape, then it throws naming both", () => {
    expect(() => meanPool(new Float32Array(5), { batch: 1, seq: 2, dim: 2 }, [1, 1])).toThrow(
      /5 values.*needs 4/,
    );
  });

  it("when the mask does not match the shape, then it throws", () => {
    expect(() => meanPool(new Float32Array(4), { batch: 1, seq: 2, dim: 2 }, [1])).toThrow(/attention mask/);
  });
});

describe("clsPool", () => {
  const cases: { name: string; hidden: number[][][]; want: number[][] }[] = [
    {
      name: "when there is one row, then the first token's state is returned",
      hidden: [
        [
          [5, 6],
          [7, 8],
        ],
      ],
      want: [[5, 6]],
    },
    {
      name: "when there are several rows, then each row's first token is taken",
      hidden: [
        [
          [1, 2],
          [0, 0],
        ],
        [
          [3, 4],
          [0, 0],
        ],
      ],
      want: [
        [1, 2],
        [3, 4],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { hidden, shape } = flat(c.hidden);
      expect(rounded(clsPool(hidden, shape))).toEqual(c.want);
    });
  }

  it("when the source buffer changes afterwards, then the pooled row keeps its value", () => {
    const { hidden, shape } = flat([[[1, 2]]]);
    const [row] = clsPool(hidden, shape);
    hidden[0] = 42;
    expect(Array.from(row!)).toEqual([1, 2]);
  });
});

describe("pool", () => {
  it("when pooling is mean or cls, then it dispatches to the matching function", () => {
    const { hidden, shape } = flat([
      [
        [1, 0],
        [3, 2],
      ],
    ]);
    expect(rounded(pool("mean", hidden, shape, [1, 1]))).toEqual([[2, 1]]);
    expect(rounded(pool("cls", hidden, shape, [1, 1]))).toEqual([[1, 0]]);
  });
});

describe("l2Normalize", () => {
  const cases: { name: string; v: number[]; want: number[] }[] = [
    { name: "when the vector is 3-4, then it becomes 0.6-0.8", v: [3, 4], want: [0.6, 0.8] },
    { name: "when the vector is already unit length, then it is unchanged", v: [0, 1, 0], want: [0, 1, 0] },
    { name: "when components are negative, then signs are kept", v: [-2, 0, 0], want: [-1, 0, 0] },
    { name: "when the vector is zero, then it stays zero instead of NaN", v: [0, 0], want: [0, 0] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(rounded([l2Normalize(Float32Array.from(c.v))])[0]).toEqual(c.want);
    });
  }

  it("when normalising, then the input is not modified", () => {
    const v = Float32Array.from([3, 4]);
    l2Normalize(v);
    expect(Array.from(v)).toEqual([3, 4]);
  });
});

describe("cosine", () => {
  const cases: { name: string; a: number[]; b: number[]; want: number }[] = [
    { name: "when vectors are parallel, then 1", a: [1, 2], b: [2, 4], want: 1 },
    { name: "when vectors are opposite, then -1", a: [1, 0], b: [-3, 0], want: -1 },
    { name: "when vectors are orthogonal, then 0", a: [1, 0], b: [0, 5], want: 0 },
    { name: "when one vector is zero, then 0", a: [0, 0], b: [1, 1], want: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(cosine(c.a, c.b)).toBeCloseTo(c.want, 12);
    });
  }
});
