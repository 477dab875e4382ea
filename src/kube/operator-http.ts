// The operator's two listeners: :8080 /metrics for Prometheus, :8081 /healthz and /readyz for the
// kubelet. Separate ports so a NetworkPolicy can expose metrics without exposing probes.
import { createServer } from "node:http";
import type { Registry } from "prom-client";
import { type Listening, listen } from "../http/serve.js";
import type { Logger } from "../util/log.js";

export interface Address {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

export async function startMetricsServer(
  registry: Registry,
  address: Address,
  log: Logger,
): Promise<Listening> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.split("?")[0] === "/metrics") {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          log.error("rendering metrics failed", { err });
          res.writeHead(500, { "content-type": "text/plain" });
          res.end("rendering metrics failed; see the operator log\n");
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found: this port serves GET /metrics\n");
  });
  return listen(server, address.host, address.port, log.child({ server: "metrics" }));
}

export interface HealthChecks {
  /** Liveness: the process serves requests. */
  healthz(): { ok: boolean; detail: string };
  /** Readiness: caches synced and leader election running. */
  readyz(): { ok: boolean; detail: string };
}

export async function startHealthServer(
  checks: HealthChecks,
  address: Address,
  log: Logger,
): Promise<Listening> {
  const server = createServer((req, res) => {
    const path = req.url?.split("?")[0];
    const check = path === "/healthz" ? checks.healthz : path === "/readyz" ? checks.readyz : undefined;
    if (req.method !== "GET" || !check) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: this port serves GET /healthz and GET /readyz\n");
      return;
    }
    const { ok, detail } = check();
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
    res.end(`${detail}\n`);
  });
  return listen(server, address.host, address.port, log.child({ server: "health" }));
}
