#!/usr/bin/env node
// A checkout runs the TypeScript sources through tsx; the container image ships only the compiled
// dist/ (no src/), so both paths run the same code and a stale dist/ never shadows a checkout.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src", "cli", "main.ts");
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(join(root, "dist", "src", "cli", "main.js")).href);
}
