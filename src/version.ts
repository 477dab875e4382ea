import { readFileSync } from "node:fs";

function readVersion(): string {
  for (const rel of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "embedops" && pkg.version) return pkg.version;
    } catch {
      // not at this depth (source vs compiled layout); try the next
    }
  }
  return "0.0.0-unknown";
}

export const version = readVersion();
