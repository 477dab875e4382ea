// The router's key files, as Pods mount them from Secrets: --api-key-file holds the keys clients
// must present (one per line, like the encoder's), --encoder-key-file the key sent to the encoder
// (its first line, so a Secret holding "new\nold" during a rotation sends the new one). Read once at
// start; a changed Secret reaches the router with a restart (`kubectl rollout restart`).
import { readFileSync } from "node:fs";
import { parseKeyFile } from "../encoder/auth.js";
import { ConfigError } from "./config.js";

/** The same floor the config file's apiKeys has: shorter keys are guessable. */
const MIN_KEY_LENGTH = 8;

function readKeys(path: string, flag: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `cannot read ${flag} ${path}: ${(err as Error).message}; check the path and permissions`,
    );
  }
  const keys = parseKeyFile(text);
  if (keys.length === 0) {
    throw new ConfigError(`${flag} ${path} holds no keys; put one key per line, or drop the flag`);
  }
  const short = keys.findIndex((k) => k.length < MIN_KEY_LENGTH);
  if (short >= 0) {
    throw new ConfigError(
      `${flag} ${path}: key ${short + 1} is shorter than ${MIN_KEY_LENGTH} characters; use a longer random key`,
    );
  }
  return keys;
}

/** Keys clients must present (Authorization: Bearer KEY or X-Api-Key). */
export function readApiKeyFile(path: string): string[] {
  return readKeys(path, "--api-key-file");
}

/** The bearer token the router sends to its encoder. */
export function readEncoderKeyFile(path: string): string {
  return readKeys(path, "--encoder-key-file")[0]!;
}
