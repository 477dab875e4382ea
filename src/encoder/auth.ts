// Optional bearer-token auth. Keys come from a file (one per line; blank lines and # comments
// skipped) and/or EMBEDOPS_API_KEYS (comma separated). Presented tokens are compared in constant time
// against every key: both sides are hashed first so lengths leak nothing, and the loop never exits
// early so the position of a matching key leaks nothing either.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";

export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

export function parseKeyList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
}

export function loadApiKeys(file: string | undefined, envList: string | undefined): string[] {
  const keys = parseKeyList(envList);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new Error(
        `cannot read --api-key-file ${file}: ${(err as Error).message}; check the path and permissions`,
      );
    }
    const fromFile = parseKeyFile(text);
    if (fromFile.length === 0) {
      throw new Error(
        `--api-key-file ${file} holds no keys; put one key per line, or drop the flag to disable auth`,
      );
    }
    keys.push(...fromFile);
  }
  return keys;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** A predicate telling whether a presented token is one of `keys`. */
export function keyChecker(keys: readonly string[]): (token: string | undefined) => boolean {
  const digests = keys.map(digest);
  return (token) => {
    if (token === undefined) return false;
    const presented = digest(token);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(presented, d) || ok;
    return ok;
  };
}

/** The token of an `Authorization: Bearer <token>` header, else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
