// `embedops router --config FILE [--host H] [--port P]`: the index's front door.
import { parseArgs } from "node:util";
import { onShutdown } from "../http/serve.js";
import { ConfigError, type RouterKeys } from "../router/config.js";
import { readApiKeyFile, readEncoderKeyFile } from "../router/key-files.js";
import { startRouter } from "../router/start-router.js";
import { createLogger } from "../util/log.js";
import { pick, requireString, serverAddress, serverFlags, UsageError } from "./options.js";

const help = `usage: embedops router --config FILE [--host HOST] [--port PORT]
                       [--api-key-file FILE] [--encoder-key-file FILE]

  --config FILE            router config JSON (index, generation, fingerprint, dimension, metric,
                           encoder, shards [{name, replicas: [url]}], timeoutMs, writeQuorum, hedge,
                           apiKeys); reloaded when the file changes          env EMBEDOPS_CONFIG
  --host HOST              bind address (default 127.0.0.1, 0.0.0.0 in a container)
                                                                          env EMBEDOPS_HOST
  --port PORT              port, 0 picks a free one (default 8080)        env EMBEDOPS_PORT
  --api-key-file FILE      keys clients must send on /v1 (Authorization: Bearer KEY), one per line;
                           added to the config's apiKeys; read at start  env EMBEDOPS_API_KEY_FILE
  --encoder-key-file FILE  key sent to the encoder as a bearer token (the file's first key); read
                           at start                                       env EMBEDOPS_ENCODER_KEY_FILE`;

export async function run(argv: string[]): Promise<void> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ...serverFlags,
        config: { type: "string" },
        "api-key-file": { type: "string" },
        "encoder-key-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
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
  const apiKeyFile = pick(values, "api-key-file");
  const encoderKeyFile = pick(values, "encoder-key-file");
  let router: Awaited<ReturnType<typeof startRouter>>;
  try {
    const keys: RouterKeys = {
      ...(apiKeyFile ? { apiKeys: readApiKeyFile(apiKeyFile) } : {}),
      ...(encoderKeyFile ? { encoderApiKey: readEncoderKeyFile(encoderKeyFile) } : {}),
    };
    router = await startRouter({ config: configPath, host, port, log, processMetrics: true, keys });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  onShutdown(log, () => router.close());
}
