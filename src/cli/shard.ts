// `embedops shard`: one shard of one index generation. Flags beat EMBEDOPS_* env vars beat defaults.
import { parseArgs } from "node:util";
import { onShutdown } from "../http/serve.js";
import { ShardConfigError } from "../shard/errors.js";
import { type Metric, metrics } from "../shard/score.js";
import { startShard } from "../shard/server.js";
import { shardDefaults } from "../shard/shard.js";
import { createLogger } from "../util/log.js";
import { pickInt, pickString, requireString, serverAddress, serverFlags, UsageError } from "./options.js";

const help = `usage: embedops shard --data-dir DIR --dimension N --metric cosine|l2|ip --fingerprint HEX [flags]

Serves one shard of one index generation. SQLite (WAL) in DIR is the source of truth; the HNSW graph is
checkpointed to DIR/checkpoints and rebuilt from the database when no good checkpoint exists.

  --data-dir DIR                    where shard.db and checkpoints/ live (required)
  --dimension N                     vector dimension (required; fixed for the data dir's lifetime)
  --metric cosine|l2|ip             distance (required; fixed for the data dir's lifetime)
  --fingerprint HEX                 model fingerprint of the generation (required; fixed)
  --shard-id NAME                   name in logs and metrics (default: shard-0)
  --m N                             HNSW links per node (default ${shardDefaults.m})
  --ef-construction N               HNSW build beam (default ${shardDefaults.efConstruction})
  --ef-search N                     default query beam, a request's "ef" overrides (default ${shardDefaults.efSearch})
  --checkpoint-interval-seconds N   graph checkpoint + compaction check period, 0 = only at shutdown (default ${shardDefaults.checkpointIntervalSeconds})
  --sync full|normal                SQLite synchronous level (default full): full fsyncs every commit so an
                                    acknowledged write survives power loss; normal survives kill -9 and
                                    process crashes but may lose the last commits on power loss
  --host HOST  --port PORT          bind address (default 127.0.0.1 outside a container, 0.0.0.0 inside; 8080)

Every flag can also come from EMBEDOPS_<FLAG> (e.g. EMBEDOPS_DATA_DIR).`;

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...serverFlags,
      "data-dir": { type: "string" },
      dimension: { type: "string" },
      metric: { type: "string" },
      fingerprint: { type: "string" },
      "shard-id": { type: "string" },
      m: { type: "string" },
      "ef-construction": { type: "string" },
      "ef-search": { type: "string" },
      "checkpoint-interval-seconds": { type: "string" },
      sync: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const metric = requireString(values, "metric");
  if (!(metrics as readonly string[]).includes(metric)) {
    throw new UsageError(`--metric must be one of ${metrics.join(", ")}, got "${metric}"`);
  }
  const sync = pickString(values, "sync", shardDefaults.sync);
  if (sync !== "full" && sync !== "normal")
    throw new UsageError(`--sync must be full or normal, got "${sync}"`);
  const fingerprint = requireString(values, "fingerprint");
  if (!/^[A-Za-z0-9:._-]{1,256}$/.test(fingerprint)) {
    throw new UsageError(
      `--fingerprint must be 1..256 characters of [A-Za-z0-9:._-] (a sha256 hex), got "${fingerprint}"`,
    );
  }
  requireString(values, "dimension");
  const dataDir = requireString(values, "data-dir");
  const shardId = pickString(values, "shard-id", "shard-0");
  const { host, port } = serverAddress(values);
  const log = createLogger({ role: "shard", shard: shardId });
  let running: Awaited<ReturnType<typeof startShard>>;
  try {
    running = await startShard({
      dataDir,
      shardId,
      dimension: pickInt(values, "dimension", 0, 1, 65_536),
      metric: metric as Metric,
      fingerprint,
      m: pickInt(values, "m", shardDefaults.m, 2, 256),
      efConstruction: pickInt(values, "ef-construction", shardDefaults.efConstruction, 1, 10_000),
      efSearch: pickInt(values, "ef-search", shardDefaults.efSearch, 1, 10_000),
      checkpointIntervalSeconds: pickInt(
        values,
        "checkpoint-interval-seconds",
        shardDefaults.checkpointIntervalSeconds,
        0,
        86_400,
      ),
      sync,
      host,
      port,
      log,
      // Bind first so /healthz answers during a long replay; /readyz turns 200 when loaded.
      waitReady: false,
    });
  } catch (err) {
    if (err instanceof ShardConfigError) throw new UsageError(err.message);
    throw err;
  }
  running.ready.catch(() => {
    // Logged by startShard; a shard that cannot load must not sit unready forever.
    process.exit(1);
  });
  onShutdown(log, () => running.close());
}
