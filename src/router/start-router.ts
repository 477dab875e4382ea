// startRouter(): the router as a library call (benchmarks, `embedops serve`, tests), the CLI being
// a thin wrapper. Returns the bound URL and a close() that stops timers, server and sockets.
import { createServer } from "node:http";
import { type Listening, listen } from "../http/serve.js";
import { createLogger, type Logger } from "../util/log.js";
import { loadRouterConfig, type RouterConfig, type RouterKeys, withKeys } from "./config.js";
import { type ConfigWatcher, watchConfig } from "./config-watch.js";
import { HttpClient } from "./http-client.js";
import { IndexRuntime } from "./index-runtime.js";
import { createRouterMetrics } from "./metrics.js";
import { createRouterListener } from "./query-listener.js";

export interface RouterOptions {
  /** A config file (reloaded when it changes) or a config object (fixed). */
  config: string | RouterConfig;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  log?: Logger;
  /** How often the config file is re-read; default 1000 ms. */
  reloadIntervalMs?: number;
  /** Add Node process metrics (CPU, memory, event loop) to /metrics; the CLI turns this on. */
  processMetrics?: boolean;
  /** Keys from files (--api-key-file, --encoder-key-file), added to every config loaded. */
  keys?: RouterKeys;
}

export interface RunningRouter {
  url: string;
  port: number;
  config(): RouterConfig;
  /** Re-reads the config file now instead of waiting for the next poll. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function startRouter(options: RouterOptions): Promise<RunningRouter> {
  const log = options.log ?? createLogger({ role: "router" });
  const metrics = createRouterMetrics(options.processMetrics ?? false);
  const http = new HttpClient();
  let initial: RouterConfig;
  let text = "";
  if (typeof options.config === "string")
    ({ config: initial, text } = await loadRouterConfig(options.config));
  else initial = options.config;
  const keys = options.keys ?? {};
  initial = withKeys(initial, keys);

  let runtime = new IndexRuntime(initial, http, metrics, log);
  await runtime.start();

  // Replaced runtimes with writes still running: a replica added by a reload misses those writes.
  const retired = new Set<IndexRuntime>();
  const olderWritesInFlight = () => {
    let n = 0;
    for (const r of retired) {
      if (r.writesInFlight === 0) retired.delete(r);
      else n += r.writesInFlight;
    }
    return n;
  };

  let watcher: ConfigWatcher | undefined;
  if (typeof options.config === "string") {
    const path = options.config;
    watcher = watchConfig(
      path,
      text,
      options.reloadIntervalMs ?? 1000,
      async (loaded) => {
        const config = withKeys(loaded, keys);
        const next = new IndexRuntime(config, http, metrics, log, runtime);
        await next.start();
        const old = runtime;
        runtime = next;
        old.stop();
        if (old.writesInFlight > 0) retired.add(old);
        metrics.configReloads.inc({ result: "ok" });
        log.info("config reloaded", {
          path,
          generation: config.generation.name,
          shards: config.generation.shards.length,
          ...(config.candidate
            ? {
                candidate: config.candidate.name,
                candidateShards: config.candidate.shards.length,
                queryWeight: config.candidate.queryWeight,
              }
            : {}),
        });
      },
      (err) => {
        metrics.configReloads.inc({ result: "error" });
        log.error("config reload failed", { path, err: err.message });
      },
    );
  }

  const listener = createRouterListener({ runtime: () => runtime, olderWritesInFlight, metrics, log });
  let listening: Listening;
  try {
    listening = await listen(createServer(listener), options.host ?? "127.0.0.1", options.port ?? 0, log);
  } catch (err) {
    watcher?.stop();
    runtime.stop();
    http.close();
    throw err;
  }
  return {
    url: listening.url,
    port: listening.port,
    config: () => runtime.config,
    reload: async () => {
      await watcher?.poll();
    },
    close: async () => {
      watcher?.stop();
      runtime.stop();
      await listening.close();
      http.close();
    },
  };
}
