// `embedops serve`'s own /metrics: what the operator exports about rollouts
// (embedops_operator_rollouts_total), under serve's own prefix, on a loopback port recorded in
// serve.json. The data-plane servers keep their own /metrics.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Registry } from "prom-client";

export interface ServeMetrics {
  readonly registry: Registry;
  readonly rolloutsTotal: Counter<"model" | "result" | "reason">;
  readonly snapshotsTotal: Counter<"index" | "result">;
  readonly replicasSeeding: Gauge<"index">;
}

export function createServeMetrics(): ServeMetrics {
  const registry = new Registry();
  return {
    registry,
    rolloutsTotal: new Counter({
      name: "embedops_serve_rollouts_total",
      help: "Encoder rollouts under embedops serve that ended, by model, result (Succeeded, Failed) and reason.",
      labelNames: ["model", "result", "reason"] as const,
      registers: [registry],
    }),
    snapshotsTotal: new Counter({
      name: "embedops_serve_snapshots_total",
      help: "Scheduled snapshots (spec.snapshot.schedule) under embedops serve, by index and result (Succeeded, Failed).",
      labelNames: ["index", "result"] as const,
      registers: [registry],
    }),
    replicasSeeding: new Gauge({
      name: "embedops_serve_replicas_seeding",
      help: "Shard replicas being seeded under embedops serve (in the router's write set, not yet queried), by index.",
      labelNames: ["index"] as const,
      registers: [registry],
    }),
  };
}

/** Serves GET /metrics on 127.0.0.1:`port` (0: any free port); resolves to the server and its URL. */
export function startServeMetrics(metrics: ServeMetrics, port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("serve answers GET /metrics only\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(err)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${bound}` });
    });
  });
}
