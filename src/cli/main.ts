// The `embedops` command: one subcommand per role. Each role module exports `run(argv)`.
import { surviveClosedOutput } from "../util/closed-output.js";
import { createLogger } from "../util/log.js";
import { UsageError } from "./options.js";

type Role = { describe: string; load: () => Promise<{ run(argv: string[]): Promise<void> }> };

const roles: Record<string, Role> = {
  encoder: { describe: "serve an ONNX sentence encoder over HTTP", load: () => import("./encoder.js") },
  shard: { describe: "serve one shard of one index generation", load: () => import("./shard.js") },
  router: { describe: "serve an index's query router", load: () => import("./router.js") },
  serve: { describe: "run the resources in a YAML file on this machine", load: () => import("./serve.js") },
  ingest: { describe: "send a JSONL file of documents to a router", load: () => import("./ingest.js") },
  query: { describe: "query a router and print a table", load: () => import("./query.js") },
  rollout: {
    describe: "show, promote, abort or retry a model's canary rollout",
    load: () => import("./rollout.js"),
  },
  operator: { describe: "run the Kubernetes operator", load: () => import("./operator.js") },
  "fetch-model": {
    describe: "download and verify a model directory (the encoder's init container)",
    load: () => import("./fetch-model.js"),
  },
  crds: { describe: "print the CustomResourceDefinitions as YAML", load: () => import("./crds.js") },
  bench: { describe: "run a benchmark (encoder | index)", load: () => import("./bench.js") },
  snapshot: {
    describe: "create, list, restore or delete an index's snapshots",
    load: () => import("./snapshot.js"),
  },
  backfill: {
    describe: "fill a new index generation from the old one's text",
    load: () => import("./backfill.js"),
  },
};

function usage(): string {
  const lines = Object.entries(roles).map(([name, r]) => `  ${name.padEnd(9)} ${r.describe}`);
  return `usage: embedops <command> [flags]\n\ncommands:\n${lines.join("\n")}\n\nRun "embedops <command> --help" for a command's flags.`;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  if (command === "--version" || command === "version") {
    const { version } = await import("../version.js");
    process.stdout.write(`${version}\n`);
    return;
  }
  const role = roles[command];
  if (!role) throw new UsageError(`unknown command "${command}"\n\n${usage()}`);
  const mod = await role.load();
  await mod.run(rest);
}

surviveClosedOutput();
main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`embedops: ${err.message}\n`);
    process.exit(2);
  }
  createLogger().error("fatal", { err });
  process.exit(1);
});
