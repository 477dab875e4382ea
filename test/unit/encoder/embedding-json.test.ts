import { describe, expect, it } from "vitest";
import { float32Base64, floatList, openAiBody, teiBody } from "../../../src/encoder/embedding-json.js";

describe("embedding JSON", () => {
  const v = new Float32Array([0.1, -2.5, 3e-8, 0]);

  it("when a vector is listed, then JSON.parse gives back the exact float32 values", () => {
    const parsed = JSON.parse(floatList(v)) as number[];
    expect(Float32Array.from(parsed)).toEqual(v);
  });

  it("when a vector holds NaN, then the list is still valid JSON with null", () => {
    expect(JSON.parse(floatList(new Float32Array([1, Number.NaN, Number.POSITIVE_INFINITY])))).toEqual([
      1,
      null,
      null,
    ]);
  });

  it("when base64 is decoded as little-endian float32, then it is the vector", () => {
    const bytes = Buffer.from(float32Base64(v.subarray(1)), "base64");
    const back = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(back).toEqual(v.subarray(1));
  });

  it("when an OpenAI body is built, then it parses to the OpenAI shape", () => {
    const body = JSON.parse(openAiBody([v, v], "float", 'm"x', 7)) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: "list",
      model: 'm"x',
      usage: { prompt_tokens: 7, total_tokens: 7 },
      data: [
        { object: "embedding", index: 0 },
        { object: "embedding", index: 1 },
      ],
    });
  });

  it("when a TEI body is built, then it parses to an array of arrays", () => {
    expect((JSON.parse(teiBody([v, v])) as number[][]).length).toBe(2);
  });
});
