// Starting and stopping an HTTP server the same way in every role: bind, print one
// {"msg":"listening","url":...} line, and on SIGTERM/SIGINT stop accepting, finish in-flight
// requests, run the role's own shutdown, and exit 0.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../util/log.js";

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

/** Graceful shutdown on SIGTERM and SIGINT; a second signal exits at once. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal, exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("shutting down", { signal });
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
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
