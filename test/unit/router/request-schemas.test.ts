import { describe, expect, it } from "vitest";
import { fromZod } from "../../../src/router/errors.js";
import { documentsSchema, querySchema } from "../../../src/router/request-schemas.js";

function fieldOf(schema: typeof querySchema | typeof documentsSchema, body: unknown): string | undefined {
  const parsed = schema.safeParse(body);
  if (parsed.success) return undefined;
  return fromZod(parsed.error).details.field as string;
}

describe("querySchema", () => {
  it("when only text is sent, then k, includeMetadata and allowPartial get their defaults", () => {
    expect(querySchema.parse({ text: "hello" })).toEqual({
      text: "hello",
      k: 10,
      includeText: false,
      includeMetadata: true,
      allowPartial: false,
    });
  });

  it.each([
    { name: "an unknown field", body: { text: "a", topK: 3 }, field: "topK" },
    { name: "k of 0", body: { text: "a", k: 0 }, field: "k" },
    { name: "k of 1001", body: { text: "a", k: 1001 }, field: "k" },
    { name: "a fractional k", body: { text: "a", k: 2.5 }, field: "k" },
    { name: "both text and vector", body: { text: "a", vector: [1] }, field: "text" },
    { name: "neither text nor vector", body: { k: 3 }, field: "text" },
    { name: "a vector of strings", body: { vector: ["a"] }, field: "vector" },
    { name: "a filter that is an array", body: { text: "a", filter: [1] }, field: "filter" },
    {
      name: "a filter value that is an object",
      body: { text: "a", filter: { lang: { eq: "en" } } },
      field: "filter.lang",
    },
    { name: "an empty in-list", body: { text: "a", filter: { lang: { in: [] } } }, field: "filter.lang.in" },
    {
      name: "a fingerprint with a text query",
      body: { text: "a", fingerprint: "ab".repeat(32) },
      field: "fingerprint",
    },
  ])("when the query has $name, then the 400 names $field", ({ body, field }) => {
    expect(fieldOf(querySchema, body)).toBe(field);
  });

  it("when the filter uses equality and in, then it is accepted", () => {
    expect(
      querySchema.safeParse({ text: "a", filter: { lang: "en", year: { in: [2020, 2021] } } }).success,
    ).toBe(true);
  });
});

describe("documentsSchema", () => {
  it.each([
    { name: "an empty batch", body: { documents: [] }, field: "documents" },
    { name: "a document without text", body: { documents: [{ id: "a" }] }, field: "documents[0].text" },
    {
      name: "an unknown document field",
      body: { documents: [{ id: "a", text: "t", vector: [] }] },
      field: "documents[0].vector",
    },
    {
      name: "a repeated id",
      body: {
        documents: [
          { id: "a", text: "t" },
          { id: "a", text: "u" },
        ],
      },
      field: "documents[1].id",
    },
    {
      name: "too many documents",
      body: { documents: Array.from({ length: 1025 }, (_, i) => ({ id: `${i}`, text: "t" })) },
      field: "documents",
    },
  ])("when the batch has $name, then the 400 names $field", ({ body, field }) => {
    expect(fieldOf(documentsSchema, body)).toBe(field);
  });
});
