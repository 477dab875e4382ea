// startShard(): the shard as a value, for the CLI and for in-process use (benchmarks, `serve`).
import { createServer } from "node:http";
import { listen } from "../http/serve.js";
import { createLogger, type Logger } from "../util/log.js";
import { createShardListener } from "./query-listener.js";
import { Shard, type ShardConfig } from "./shard.js";

export interface StartShardOptions extends ShardConfig {
  host?: string;
  port?: number;
  log?: Logger;
  /** Resolve only once the index is loaded and replayed (default true; the CLI starts serving /healthz first). */
  waitReady?: boolean;
}

export interface RunningShard {
  url: string;
  port: number;
  shard: Shard;
  /** Resolves when the index is loaded (rejects if loading failed). */
  ready: Promise<void>;
  /** Stop accepting, finish in-flight requests, checkpoint, close the database. */
  close(): Promise<void>;
}

export async function startShard(options: StartShardOptions): Promise<RunningShard> {
  const log = options.log ?? createLogger({ role: "shard", shard: options.shardId });
  // Opens SQLite and checks the data dir's identity before binding: a wrong flag fails at once.
  const shard = new Shard(options, log);
  const server = createServer(createShardListener(shard, log));
  // A slow client must not hold a shard's socket forever; large batches still get a minute.
  server.requestTimeout = 60_000;
  server.headersTimeout = 10_000;
  const listening = await listen(server, options.host ?? "127.0.0.1", options.port ?? 0, log);
  const ready = shard.load();
  ready.catch((err: unknown) => log.error("loading the index failed", { err }));
  if (options.waitReady ?? true) await ready;
  let closing: Promise<void> | null = null;
  return {
    url: listening.url,
    port: listening.port,
    shard,
    ready,
    close() {
      closing ??= (async () => {
        await listening.close();
        await shard.close();
      })();
      return closing;
    },
  };
}
