// `embedops bench <name>`: the benchmark scripts under bench/, run from a checkout (they need the
// dev dependencies and the models, so they are not part of the image).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { UsageError } from "./options.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Bench {
  describe: string;
  /** Path of the module (under bench/) that exports run(argv). */
  module: string;
}

const benches: Record<string, Bench> = {
  encoder: {
    describe: "encoder server vs onnxruntime in-process, transformers.js and Infinity",
    module: "bench/encoder/main.ts",
  },
  index: { describe: "sharded HNSW index vs hnswlib in-process and peers", module: "bench/index/main.ts" },
  rollout: {
    describe: "serve: a bad candidate's rollback time vs its bound; router p99 with a 10 % canary",
    module: "bench/rollout/main.ts",
  },
  generation: {
    describe: "backfill N -> N+1: docs/s vs the candidate encoder alone; the stable's p99 during it",
    module: "bench/generation/main.ts",
  },
  snapshot: {
    describe: "snapshot and restore of 200k x 384 vectors, path store and S3, vs cp -r of the data dirs",
    module: "bench/snapshot/main.ts",
  },
};

function usage(): string {
  const lines = Object.entries(benches).map(([n, b]) => `  ${n.padEnd(10)} ${b.describe}`);
  return `usage: embedops bench <name> [flags]\n\nbenchmarks:\n${lines.join("\n")}`;
}

export async function run(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h") {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const bench = benches[name];
  if (!bench) throw new UsageError(`unknown benchmark "${name}"\n\n${usage()}`);
  const file = join(root, bench.module);
  if (!existsSync(file)) {
    throw new UsageError(`the ${name} benchmark is not built yet (no ${bench.module})`);
  }
  const mod = (await import(pathToFileURL(file).href)) as { run(argv: string[]): Promise<void> };
  await mod.run(rest);
}
