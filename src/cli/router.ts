// `embedops router --config FILE [--host H] [--port P]`: the index's front door.
import { parseArgs } from "node:util";
import { onShutdown } from "../http/serve.js";
import { ConfigError } from "../router/config.js";
import { startRouter } from "../router/start-router.js";
import { createLogger } from "../util/log.js";
import { requireString, serverAddress, serverFlags, UsageError } from "./options.js";

const help = `usage: embedops router --config FILE [--host HOST] [--port PORT]

  --config FILE   router config JSON (index, generation, fingerprint, dimension, metric, encoder,
                  shards [{name, replicas: [url]}], timeoutMs, writeQuorum, hedge, apiKeys);
                  reloaded when the file changes          env EMBEDOPS_CONFIG
  --host HOST     bind address (default 127.0.0.1, 0.0.0.0 in a container)   env EMBEDOPS_HOST
  --port PORT     port, 0 picks a free one (default 8080)                   env EMBEDOPS_PORT`;

export async function run(argv: string[]): Promise<void> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...serverFlags, config: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${help}`);
  }
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const configPath = requireString(values, "config");
  const { host, port } = serverAddress(values);
  const log = createLogger({ role: "router" });
  let router: Awaited<ReturnType<typeof startRouter>>;
  try {
    router = await startRouter({ config: configPath, host, port, log, processMetrics: true });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  onShutdown(log, () => router.close());
}
