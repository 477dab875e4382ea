// `embedops encoder --model-dir DIR`: serve one ONNX sentence encoder over HTTP (OpenAI + TEI APIs).
import { parseArgs } from "node:util";
import { loadApiKeys } from "../encoder/auth.js";
import { UNKNOWN_REVISION } from "../encoder/metrics.js";
import { defaultSettings } from "../encoder/runtime.js";
import { startEncoder } from "../encoder/server.js";
import { onShutdown } from "../http/serve.js";
import { createLogger } from "../util/log.js";
import { envName, pick, pickInt, requireString, serverAddress, serverFlags, UsageError } from "./options.js";

const HELP = `usage: embedops encoder --model-dir DIR [flags]

Serves POST /v1/embeddings (OpenAI), POST /embed (TEI), GET /info, /healthz, /readyz, /metrics.
Every flag also reads EMBEDOPS_<FLAG> (e.g. EMBEDOPS_MODEL_DIR); a flag beats the variable.

  --model-dir DIR                 model directory (model.onnx, tokenizer.json, embedops-model.json)
  --threads N                     onnxruntime intra-op threads (default 2)
  --max-batch-tokens N            padded tokens per engine batch (default ${defaultSettings.maxBatchTokens})
  --max-batch-requests N          inputs per engine batch (default ${defaultSettings.maxBatchRequests})
  --max-concurrent-requests N     in-flight embedding requests before 429 (default ${defaultSettings.maxConcurrentRequests})
  --max-client-batch-size N       inputs per HTTP request (default ${defaultSettings.maxClientBatchSize})
  --max-body-bytes N              request body limit (default ${defaultSettings.maxBodyBytes})
  --api-key-file FILE             bearer tokens, one per line; EMBEDOPS_API_KEYS takes a comma list.
                                  With keys set, every route but /healthz /readyz /metrics needs one.
  --revision NAME                 the revision label on every metric, e.g. the pod's revision hash
                                  (default "unknown"); a canary's metrics are told apart by it
  --host HOST                     bind address (default 127.0.0.1; 0.0.0.0 in a container)
  --port PORT                     port (default 8080; 0 picks a free one)
`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...serverFlags,
      help: { type: "boolean", short: "h" },
      "model-dir": { type: "string" },
      threads: { type: "string" },
      "max-batch-tokens": { type: "string" },
      "max-batch-requests": { type: "string" },
      "max-concurrent-requests": { type: "string" },
      "max-client-batch-size": { type: "string" },
      "max-body-bytes": { type: "string" },
      "api-key-file": { type: "string" },
      revision: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const v = values as Record<string, unknown>;
  const modelDir = requireString(v, "model-dir");
  const { host, port } = serverAddress(v);
  let apiKeys: string[];
  try {
    apiKeys = loadApiKeys(pick(v, "api-key-file"), process.env[envName("api-keys")]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const revision = pick(v, "revision") ?? UNKNOWN_REVISION;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(revision)) {
    throw new UsageError(`--revision: must be 1-64 characters of [A-Za-z0-9._-], got "${revision}"`);
  }
  const log = createLogger({ role: "encoder" });
  const encoder = await startEncoder({
    modelDir,
    threads: pickInt(v, "threads", 2, 1, 256),
    host,
    port,
    log,
    revision,
    settings: {
      maxBatchTokens: pickInt(v, "max-batch-tokens", defaultSettings.maxBatchTokens, 1),
      maxBatchRequests: pickInt(v, "max-batch-requests", defaultSettings.maxBatchRequests, 1),
      maxConcurrentRequests: pickInt(v, "max-concurrent-requests", defaultSettings.maxConcurrentRequests, 1),
      maxClientBatchSize: pickInt(v, "max-client-batch-size", defaultSettings.maxClientBatchSize, 1),
      maxBodyBytes: pickInt(v, "max-body-bytes", defaultSettings.maxBodyBytes, 1024),
      apiKeys,
    },
  });
  onShutdown(log, () => encoder.close());
  try {
    await encoder.ready;
  } catch (err) {
    log.error("cannot load the model", { err, modelDir });
    await encoder.close().catch(() => {});
    process.exit(1);
  }
}
