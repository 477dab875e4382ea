// `embedops encoder --model-dir DIR`: serve one ONNX sentence encoder over HTTP (OpenAI + TEI APIs).
import { parseArgs } from "node:util";
import { loadApiKeys } from "../encoder/auth.js";
import { UNKNOWN_REVISION } from "../encoder/metrics.js";
import { loadModelConfig } from "../encoder/model-dir.js";
import { defaultSettings } from "../encoder/runtime.js";
import { startEncoder } from "../encoder/server.js";
import { SpaceContradictionError } from "../encoder/space-settings.js";
import { onShutdown } from "../http/serve.js";
import { createLogger, type Logger } from "../util/log.js";
import { envName, pick, pickInt, requireString, serverAddress, serverFlags, UsageError } from "./options.js";
import { spaceFlags, spaceSettings } from "./space-flags.js";

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

The embedding space, from the EmbeddingModel spec (the operator and embedops serve pass all six).
Each one given is checked against embedops-model.json; one not given takes the file's value.
  --dimension N                   must equal the file's
  --pooling mean|cls              must equal the file's
  --normalize true|false          must equal the file's
  --max-sequence-length N         at most the file's; a lower one truncates there (and so changes
                                  the fingerprint)
  --query-prefix S                must equal the file's
  --document-prefix S             must equal the file's
An empty prefix is a value here (EMBEDOPS_QUERY_PREFIX= too); one starting with "-" is written
--query-prefix=S. A contradiction is refused before listening: one error log line naming each,
and exit code 2.
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
      ...spaceFlags,
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
  const space = spaceSettings(v);
  const log = createLogger({ role: "encoder" });
  // Before listening: an encoder whose spec contradicts its model directory must never answer, not
  // even a probe, and starting it again cannot help (exit 2, as for a bad flag). Any other problem
  // with the directory (a missing file) is left to the load to report, as it always was.
  const contradiction = await loadModelConfig(modelDir, space).then(
    () => undefined,
    (err: unknown) => (err instanceof SpaceContradictionError ? err : undefined),
  );
  if (contradiction !== undefined) refuse(log, contradiction, modelDir);
  const encoder = await startEncoder({
    modelDir,
    threads: pickInt(v, "threads", 2, 1, 256),
    host,
    port,
    log,
    revision,
    space,
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
    // Only when embedops-model.json changed between the check above and the load.
    if (err instanceof SpaceContradictionError) refuse(log, err, modelDir);
    log.error("cannot load the model", { err, modelDir });
    await encoder.close().catch(() => {});
    process.exit(1);
  }
}

function refuse(log: Logger, err: SpaceContradictionError, modelDir: string): never {
  // No stack: the message is the whole story, and it is already long when several fields disagree.
  const { name, message } = err;
  log.error("the EmbeddingModel spec contradicts its model directory", { err: { name, message }, modelDir });
  process.exit(2);
}
