// Start a worker thread on one of our own modules, whether it is compiled JavaScript (dist/, the
// container image) or TypeScript run from a checkout. A worker does not inherit the tsx loader that
// bin/embedops.mjs (or vitest) registered on the main thread, and Node 20 applies `--import` in a
// worker's execArgv only after the entry is loaded, so a .ts entry goes through a tiny bootstrap
// that registers tsx in the worker first.
import { Worker } from "node:worker_threads";

export function startModuleWorker(entry: URL, workerData: unknown): Worker {
  if (!entry.pathname.endsWith(".ts")) return new Worker(entry, { workerData });
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap =
    `const { register } = await import(${JSON.stringify(tsx)});\n` +
    "register();\n" +
    `await import(${JSON.stringify(entry.href)});\n`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData });
}

/** The sibling module `name` (without extension) in the same form (.ts or .js) as `from`. */
export function siblingModule(name: string, from: string): URL {
  const ext = from.endsWith(".ts") ? ".ts" : ".js";
  return new URL(`./${name}${ext}`, from);
}
