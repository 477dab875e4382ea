// A small state or config file written whole under a temporary name and renamed over the old one,
// so a reader (a router reloading its config, a CLI reading serve's state) never sees half a file.
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Writes `text` to `path` by rename, creating the directory when it is missing. */
export function replaceFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** `value` as indented JSON with a final newline, by replaceFile. */
export function replaceJsonFile(path: string, value: unknown): void {
  replaceFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
