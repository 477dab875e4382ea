// The router's hand-checked query fast path against querySchema, the single source of truth: what the
// fast path accepts must parse to exactly what zod gives; what it cannot vouch for goes to zod.
import { describe, expect, it } from "vitest";
import { splitUrl } from "../../../src/router/http-client.js";
import { isPlainJson } from "../../../src/router/query-listener.js";
import { fastQueryRequest } from "../../../src/router/query-request-fast.js";
import { querySchema } from "../../../src/router/request-schemas.js";

const b64 = Buffer.from(new Float32Array([0.5, -1, 2]).buffer).toString("base64");

describe("fastQueryRequest", () => {
  it.each([
    { name: "a base64 vector alone", body: { vector: b64 } },
    {
      name: "a number-array vector with every option",
      body: {
        vector: [1, 2, 3],
        k: 5,
        ef: 64,
        includeText: true,
        includeMetadata: false,
        allowPartial: true,
      },
    },
    { name: "text alone", body: { text: "hello" } },
    { name: "a vector with its fingerprint", body: { vector: b64, fingerprint: "sha256:abc.def_1-2" } },
    { name: "k and ef at their bounds", body: { vector: b64, k: 1000, ef: 10_000 } },
    { name: "k and ef at their lower bounds", body: { vector: b64, k: 1, ef: 1 } },
    { name: "an empty vector array", body: { vector: [] } },
  ])("when the body is $name, then the fast path takes it and agrees with querySchema", ({ body }) => {
    const fast = fastQueryRequest(body);
    expect(fast).toBeDefined();
    expect(fast).toEqual(querySchema.parse(body));
  });

  it.each([
    { name: "a filter", body: { vector: b64, filter: { lang: "en" } } },
    { name: "an unknown field", body: { vector: b64, topK: 3 } },
    { name: "k of 0", body: { vector: b64, k: 0 } },
    { name: "k of 1001", body: { vector: b64, k: 1001 } },
    { name: "a fractional k", body: { vector: b64, k: 2.5 } },
    { name: "a string k", body: { vector: b64, k: "5" } },
    { name: "ef above the shards' limit", body: { vector: b64, ef: 10_001 } },
    { name: "both text and vector", body: { text: "a", vector: b64 } },
    { name: "neither text nor vector", body: { k: 3 } },
    { name: "empty text", body: { text: "" } },
    { name: "a vector of strings", body: { vector: ["a"] } },
    { name: "a vector that is an object", body: { vector: { a: 1 } } },
    { name: "a fingerprint with text", body: { text: "a", fingerprint: "abc" } },
    { name: "a malformed fingerprint", body: { vector: b64, fingerprint: "a b" } },
    { name: "includeText as a string", body: { vector: b64, includeText: "true" } },
    { name: "allowPartial null", body: { vector: b64, allowPartial: null } },
    { name: "an array", body: [{ vector: b64 }] },
    { name: "null", body: null },
    { name: "a JSON-made __proto__ key", body: JSON.parse(`{"vector":"${b64}","__proto__":{"k":3}}`) },
  ])("when the body has $name, then the fast path declines and querySchema decides", ({ body }) => {
    expect(fastQueryRequest(body)).toBeUndefined();
  });
});

describe("isPlainJson", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["Application/JSON;charset=UTF-8", true],
    ['application/json; charset="utf-8"', true],
    ["application/json; charset=latin1", false],
    ["application/json; boundary=x", false],
    ["application/merge-patch+json", false],
    ["text/plain", false],
    [undefined, false],
  ])("when Content-Type is %s, then the fast path takes it: %s", (type, expected) => {
    expect(isPlainJson(type)).toBe(expected);
  });
});

describe("splitUrl", () => {
  it.each([
    ["http://127.0.0.1:8080/v1/query?k=3", "http://127.0.0.1:8080", "/v1/query?k=3"],
    ["http://[::1]:8080/readyz", "http://[::1]:8080", "/readyz"],
    ["https://enc.example:443", "https://enc.example:443", "/"],
    ["http://h:1?x=1", "http://h:1", "/?x=1"],
    ["http://h:1/a#frag", "http://h:1", "/a"],
    ["http://u:p@h:1/p/q", "http://u:p@h:1", "/p/q"],
  ])("when the URL is %s, then origin %s and path %s", (url, origin, path) => {
    expect(splitUrl(url)).toEqual({ origin, path });
  });
});
