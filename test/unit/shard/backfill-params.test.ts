// The pure parts of the backfill's shard APIs: POST /v1/points?ifAbsent, and /v1/meta's key and value.
import { describe, expect, it } from "vitest";
import type { HttpError } from "../../../src/shard/errors.js";
import {
  decodeMetaKey,
  decodeMetaValue,
  decodeUpsertParams,
  maxMetaValueBytes,
} from "../../../src/shard/wire.js";

function refusal(fn: () => unknown): { status: number; field: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as HttpError;
    return { status: e.status, field: e.field, message: e.message };
  }
  throw new Error("expected a 400, got success");
}

describe("POST /v1/points query string", () => {
  const accepted: [Record<string, unknown>, boolean][] = [
    [{}, false],
    [{ ifAbsent: "true" }, true],
    [{ ifAbsent: "1" }, true],
    [{ ifAbsent: "false" }, false],
    [{ ifAbsent: "0" }, false],
  ];
  for (const [params, ifAbsent] of accepted) {
    it(`when the query string is ${JSON.stringify(params)}, then ifAbsent is ${ifAbsent}`, () => {
      expect(decodeUpsertParams(params)).toEqual({ ifAbsent });
    });
  }

  const refused: [string, Record<string, unknown>, string, string][] = [
    ["not a boolean", { ifAbsent: "yes" }, "ifAbsent", '"true" or "false"'],
    ["given twice", { ifAbsent: ["true", "false"] }, "ifAbsent", "once"],
    ["misspelt", { ifabsent: "true" }, "ifabsent", "ifabsent"],
  ];
  for (const [name, params, field, words] of refused) {
    it(`when ifAbsent is ${name}, then 400 names ${field} and says ${words}`, () => {
      const r = refusal(() => decodeUpsertParams(params));
      expect(r.status).toBe(400);
      expect(r.field).toBe(field);
      expect(r.message).toContain(field);
      expect(r.message).toContain(words);
    });
  }
});

describe("/v1/meta key", () => {
  for (const key of ["backfill.cursor", "gen-3_from-2", "a", "x".repeat(128)]) {
    it(`when the key is "${key.slice(0, 20)}", then it is accepted as is`, () => {
      expect(decodeMetaKey(key)).toBe(key);
    });
  }
  for (const key of ["", "x".repeat(129), "user:cursor", "a/b", "a b", "é", "../x"]) {
    it(`when the key is ${JSON.stringify(key.slice(0, 20))} (length ${key.length}), then 400 names key and the allowed characters`, () => {
      const r = refusal(() => decodeMetaKey(key));
      expect(r.status).toBe(400);
      expect(r.field).toBe("key");
      expect(r.message).toContain("1..128 characters");
    });
  }
});

describe("/v1/meta value", () => {
  it("when the value is any JSON (object, string, number, null), then it is stored as its JSON text", () => {
    expect(decodeMetaValue({ value: { afterSeq: 42, done: false } })).toBe('{"afterSeq":42,"done":false}');
    expect(decodeMetaValue({ value: "x" })).toBe('"x"');
    expect(decodeMetaValue({ value: 7 })).toBe("7");
    expect(decodeMetaValue({ value: null })).toBe("null");
  });

  it("when the value serialises to exactly the limit, then it is accepted; one byte more is a 400 naming value and both sizes", () => {
    const fits = "x".repeat(maxMetaValueBytes - 2); // the two quotes make up the rest
    expect(Buffer.byteLength(decodeMetaValue({ value: fits }))).toBe(maxMetaValueBytes);
    const r = refusal(() => decodeMetaValue({ value: `${fits}x` }));
    expect(r.status).toBe(400);
    expect(r.field).toBe("value");
    expect(r.message).toContain(String(maxMetaValueBytes));
    expect(r.message).toContain(String(maxMetaValueBytes + 1));
  });

  const refused: [string, unknown, string, string][] = [
    ["value is missing", { cursor: 1 }, "value", '{"value": <any JSON'],
    ["the body has another field", { value: 1, ttl: 5 }, "ttl", "ttl"],
    ["the body is not an object", [1, 2], "", "object"],
  ];
  for (const [name, body, field, words] of refused) {
    it(`when ${name}, then 400${field ? ` names ${field}` : ""} and says ${words}`, () => {
      const r = refusal(() => decodeMetaValue(body));
      expect(r.status).toBe(400);
      if (field) expect(r.field).toBe(field);
      expect(r.message).toContain(words);
    });
  }
});
