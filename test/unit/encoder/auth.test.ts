import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  bearerToken,
  keyChecker,
  loadApiKeys,
  parseKeyFile,
  parseKeyList,
} from "../../../src/encoder/auth.js";

describe("keyChecker", () => {
  const accepts = keyChecker(["alpha-key", "beta-key-longer"]);
  const table: { when: string; token: string | undefined; ok: boolean }[] = [
    { when: "the token is the first key", token: "alpha-key", ok: true },
    { when: "the token is the second key", token: "beta-key-longer", ok: true },
    { when: "the token is a prefix of a key", token: "alpha", ok: false },
    { when: "the token extends a key", token: "alpha-key-x", ok: false },
    { when: "the token differs in case", token: "ALPHA-KEY", ok: false },
    { when: "no token is sent", token: undefined, ok: false },
    { when: "the token is empty", token: "", ok: false },
  ];
  for (const row of table) {
    it(`when ${row.when}, then it is ${row.ok ? "accepted" : "refused"}`, () => {
      expect(accepts(row.token)).toBe(row.ok);
    });
  }
  it("when there are no keys, then nothing is accepted", () => {
    expect(keyChecker([])("anything")).toBe(false);
  });
});

describe("bearerToken", () => {
  it("when the header is a bearer header, then the token is returned", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer   abc ")).toBe("abc");
  });
  it("when the header is another scheme or missing, then there is no token", () => {
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
  });
});

describe("key sources", () => {
  it("when a key file has comments and blank lines, then only the keys remain", () => {
    expect(parseKeyFile("# team a\nk1\n\n  k2  \r\n#k3\n")).toEqual(["k1", "k2"]);
  });
  it("when EMBEDOPS_API_KEYS has spaces and empty items, then they are dropped", () => {
    expect(parseKeyList(" a, ,b,")).toEqual(["a", "b"]);
  });
  it("when both a file and the list are given, then keys from both are loaded", () => {
    const dir = mkdtempSync(join(tmpdir(), "embedops-keys-"));
    writeFileSync(join(dir, "keys"), "from-file\n");
    expect(loadApiKeys(join(dir, "keys"), "from-env")).toEqual(["from-env", "from-file"]);
  });
  it("when the key file holds no keys, then loading fails saying so", () => {
    const dir = mkdtempSync(join(tmpdir(), "embedops-keys-"));
    writeFileSync(join(dir, "keys"), "# nothing\n");
    expect(() => loadApiKeys(join(dir, "keys"), undefined)).toThrow(/holds no keys/);
  });
  it("when the key file is missing, then loading fails naming it", () => {
    expect(() => loadApiKeys("/nonexistent/keys", undefined)).toThrow(
      /cannot read --api-key-file \/nonexistent\/keys/,
    );
  });
});
