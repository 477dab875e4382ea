import { describe, expect, it } from "vitest";
import { ApiError, openAiErrorBody, teiErrorBody } from "../../../src/encoder/errors.js";
import { parseOpenAiRequest, parseTeiRequest } from "../../../src/encoder/requests.js";

const limits = { dimension: 384, maxClientBatchSize: 3 };

function refusal(parse: () => unknown): { status: number; param: string | null; message: string } {
  try {
    parse();
  } catch (err) {
    if (err instanceof ApiError) return { status: err.status, param: err.param, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal, the request was accepted");
}

describe("parseOpenAiRequest", () => {
  const refused: { when: string; body: unknown; status: number; param: string | null; says: RegExp }[] = [
    { when: "the body is an array", body: [1], status: 400, param: null, says: /JSON object/ },
    { when: "the body is null", body: null, status: 400, param: null, says: /JSON object/ },
    { when: "input is missing", body: {}, status: 400, param: "input", says: /input is required/ },
    {
      when: "input is a number",
      body: { input: 3 },
      status: 400,
      param: "input",
      says: /string or an array/,
    },
    { when: "input is an empty string", body: { input: "" }, status: 400, param: "input", says: /empty/ },
    {
      when: "input is an empty array",
      body: { input: [] },
      status: 400,
      param: "input",
      says: /at least one/,
    },
    {
      when: "an input item is not a string",
      body: { input: ["a", "b", { x: 1 }] },
      status: 400,
      param: "input[2]",
      says: /input\[2\] must be a string/,
    },
    {
      when: "an input item is a token array",
      body: { input: [[1, 2]] },
      status: 400,
      param: "input[0]",
      says: /token arrays/,
    },
    {
      when: "an input item is empty",
      body: { input: ["a", ""] },
      status: 400,
      param: "input[1]",
      says: /empty/,
    },
    {
      when: "there are more inputs than maxClientBatchSize",
      body: { input: ["a", "b", "c", "d"] },
      status: 413,
      param: "input",
      says: /4 items, more than the maximum of 3/,
    },
    {
      when: "model is not a string",
      body: { input: "a", model: 1 },
      status: 400,
      param: "model",
      says: /model/,
    },
    {
      when: "encoding_format is unknown",
      body: { input: "a", encoding_format: "int8" },
      status: 400,
      param: "encoding_format",
      says: /"float" or "base64"/,
    },
    {
      when: "dimensions differs from the model's",
      body: { input: "a", dimensions: 128 },
      status: 400,
      param: "dimensions",
      says: /384/,
    },
  ];
  for (const row of refused) {
    it(`when ${row.when}, then it is refused with ${row.status} naming ${row.param ?? "the body"}`, () => {
      const r = refusal(() => parseOpenAiRequest(row.body, limits));
      expect(r.status).toBe(row.status);
      expect(r.param).toBe(row.param);
      expect(r.message).toMatch(row.says);
    });
  }

  it("when input is one string, then it becomes one input marked single, as float by default", () => {
    expect(parseOpenAiRequest({ input: "hi", model: "m", user: "u" }, limits)).toEqual({
      inputs: ["hi"],
      single: true,
      model: "m",
      encodingFormat: "float",
    });
  });

  it("when dimensions equals the model's and base64 is asked, then the request is accepted", () => {
    const r = parseOpenAiRequest({ input: ["a", "b"], dimensions: 384, encoding_format: "base64" }, limits);
    expect(r).toMatchObject({ inputs: ["a", "b"], single: false, encodingFormat: "base64" });
  });
});

describe("parseTeiRequest", () => {
  const refused: { when: string; body: unknown; param: string; says: RegExp }[] = [
    { when: "inputs is missing", body: { input: "a" }, param: "inputs", says: /inputs is required/ },
    {
      when: "normalize is a string",
      body: { inputs: "a", normalize: "yes" },
      param: "normalize",
      says: /true or false/,
    },
    {
      when: "truncate is a number",
      body: { inputs: "a", truncate: 1 },
      param: "truncate",
      says: /true or false/,
    },
    {
      when: "truncation_direction is Left",
      body: { inputs: "a", truncation_direction: "Left" },
      param: "truncation_direction",
      says: /Right/,
    },
    {
      when: "prompt_name is set",
      body: { inputs: "a", prompt_name: "query" },
      param: "prompt_name",
      says: /prefix/,
    },
    { when: "an item is null", body: { inputs: ["a", null] }, param: "inputs[1]", says: /must be a string/ },
  ];
  for (const row of refused) {
    it(`when ${row.when}, then it is refused naming ${row.param}`, () => {
      const r = refusal(() => parseTeiRequest(row.body, limits));
      expect(r.status).toBe(400);
      expect(r.param).toBe(row.param);
      expect(r.message).toMatch(row.says);
    });
  }

  it("when only inputs is given, then normalize and truncate default to true", () => {
    expect(parseTeiRequest({ inputs: ["a"] }, limits)).toEqual({
      inputs: ["a"],
      single: false,
      normalize: true,
      truncate: true,
    });
  });
});

describe("error bodies", () => {
  const e = new ApiError(400, "input[2] must be a string", { param: "input[2]", code: "invalid_type" });
  it("when rendered for OpenAI, then it has message, type, param and code", () => {
    expect(openAiErrorBody(e)).toEqual({
      error: {
        message: "input[2] must be a string",
        type: "invalid_request_error",
        param: "input[2]",
        code: "invalid_type",
      },
    });
  });
  it("when rendered for TEI, then it has error and error_type", () => {
    expect(teiErrorBody(e)).toEqual({ error: "input[2] must be a string", error_type: "Validation" });
    expect(teiErrorBody(new ApiError(429, "busy"))).toEqual({ error: "busy", error_type: "Overloaded" });
  });
});
