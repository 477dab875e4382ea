// Starting and stopping an HTTP server the same way in every role: bind, print one
// {"msg":"listening","url":...} line, and on SIGTERM/SIGINT (or, under `embedops serve`, when serve
// is gone) stop accepting, finish in-flight requests, run the role's own shutdown, and exit 0.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../util/log.js";
import { parentPidFromEnv, watchParent } from "../util/parent-watch.js";

/**
 * How long a child whose parent is gone may take to shut down. Nobody is left to SIGKILL it, so it
 * exits by itself after the grace `embedops serve` would have given it.
 */
export const orphanGraceMs = 15_000;

export interface Listening {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(server: Server, host: string, port: number, log: Logger): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${shownHost}:${addr.port}`;
  log.info("listening", { url });
  return {
    server,
    url,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

/**
 * Graceful shutdown on SIGTERM and SIGINT; a second signal exits at once. Started by `embedops serve`
 * (EMBEDOPS_PARENT_PID set), the same shutdown runs when serve is gone, within `orphanGraceMs`.
 */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const shutDown = (level: "info" | "warn", fields: Record<string, unknown>) => {
    stopping = true;
    log[level]("shutting down", fields);
    stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal, exiting now", { signal });
      process.exit(1);
    }
    shutDown("info", { signal });
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);

  const parentPid = parentPidFromEnv(process.env);
  if (parentPid === undefined) return;
  watchParent(process.stdin, () => {
    setTimeout(() => {
      log.error("shutdown did not finish after the parent went away; exiting now", {
        parentPid,
        graceMs: orphanGraceMs,
      });
      process.exit(1);
    }, orphanGraceMs).unref();
    // Already stopping (serve sent SIGTERM, then went away): let that shutdown finish.
    if (stopping) return;
    shutDown("warn", { reason: "the parent process is gone (its pipe on stdin closed)", parentPid });
  });
}
