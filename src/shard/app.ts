// The shard's HTTP API (express 5). Handlers only decode, call the Shard and encode; every error goes
// to one JSON error handler: 4xx naming the field for bad input, 5xx only for our own failures.
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "../util/log.js";
import { badRequest, describeError, HttpError } from "./errors.js";
import type { PeerSync } from "./peer-sync.js";
import type { Shard } from "./shard.js";
import { mountSnapshotRoutes } from "./snapshot-routes.js";
import { mountSyncRoutes } from "./sync-routes.js";
import {
  decodeBinaryPoints,
  decodeBinaryQuery,
  decodeDeleteIds,
  decodeJsonPoints,
  decodeJsonQuery,
  decodeMetaKey,
  decodeMetaValue,
  decodeScanParams,
  decodeUpsertParams,
  maxIdLength,
} from "./wire.js";

export const fingerprintHeader = "X-Embedops-Model-Fingerprint";
export const pointsContentType = "application/x-embedops-points";
const bodyLimit = "64mb";
export const bodyLimitBytes = 64 * 1024 * 1024;

export function createShardApp(shard: Shard, log: Logger): express.Express {
  const { fingerprint, dimension, metric } = shard.config;
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");

  app.use((req, res, next) => {
    res.setHeader(fingerprintHeader, fingerprint);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      // req.route is set only when a route matched; unmatched paths share one label (bounded cardinality).
      const route = (req.route as { path?: string } | undefined)?.path ?? "unmatched";
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      shard.metrics.requestDuration.observe(
        { route, method: req.method, status: String(res.statusCode) },
        seconds,
      );
    });
    next();
  });

  const json = express.json({ limit: bodyLimit, strict: false });
  // Meta values are at most 64 KiB; the parser's cap sits above it so the 400 can say by how much.
  const metaJson = express.json({ limit: "1mb", strict: false });
  const raw = express.raw({ type: [pointsContentType, "application/octet-stream"], limit: bodyLimit });

  /** A vector declared as coming from another model must never meet this generation's vectors. */
  const checkFingerprint = (req: Request, _res: Response, next: NextFunction) => {
    next(fingerprintRefusal(req.get(fingerprintHeader), fingerprint));
  };

  const needReady = (_req: Request, _res: Response, next: NextFunction) => {
    next(shard.ready ? undefined : notReady());
  };

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  let catchUp: PeerSync | undefined;
  // A running catch-up keeps 200 (writes must keep reaching it) but says so: every router stops
  // querying a replica that may still lack rows, not only the one that started the catch-up.
  app.get("/readyz", (_req, res) => {
    const syncing = catchUp?.status.phase === "running";
    res.status(shard.ready ? 200 : 503).json({ ready: shard.ready, ...(syncing ? { syncing: true } : {}) });
  });
  app.get("/metrics", async (_req, res) => {
    res.setHeader("Content-Type", shard.metrics.registry.contentType);
    res.send(await shard.metrics.registry.metrics());
  });

  app.post("/v1/points", checkFingerprint, needReady, json, raw, async (req, res) => {
    const options = decodeUpsertParams(req.query as Record<string, unknown>);
    const points = req.is(pointsContentType)
      ? decodeBinaryPoints(bodyBytes(req), dimension, metric)
      : decodeJsonPoints(jsonBody(req), dimension, metric);
    res.json(await shard.upsert(points, options));
  });

  app.post("/v1/points/delete", needReady, json, async (req, res) => {
    res.json(await shard.delete(decodeDeleteIds(jsonBody(req))));
  });

  app.delete("/v1/points/:id", needReady, async (req, res) => {
    const id = checkedId(req.params.id);
    const r = await shard.delete([id]);
    if (r.deleted === 0)
      throw new HttpError(404, `point "${id}" does not exist (or is already deleted)`, "id");
    res.json(r);
  });

  app.get("/v1/points/:id", needReady, (req, res) => {
    const id = checkedId(req.params.id);
    const point = shard.get(id);
    if (!point) throw new HttpError(404, `point "${id}" does not exist`, "id");
    res.json(point);
  });

  app.post("/v1/query", checkFingerprint, needReady, json, raw, (req, res) => {
    const q = req.is("application/octet-stream")
      ? decodeBinaryQuery(bodyBytes(req), req.query as Record<string, unknown>, dimension, metric)
      : decodeJsonQuery(jsonBody(req), dimension, metric);
    res.json(shard.query(q));
  });

  app.get("/v1/stats", async (_req, res) => {
    res.json(await shard.stats());
  });

  app.get("/v1/scan", needReady, (req, res) => {
    const { afterSeq, limit } = decodeScanParams(req.query as Record<string, unknown>);
    res.json(shard.scan(afterSeq, limit));
  });

  mountSnapshotRoutes(app, shard, log);

  // Internal: a small durable value per key for whoever drives this generation (the backfill's cursor).
  app.get("/v1/meta/:key", needReady, (req, res) => {
    const key = decodeMetaKey(req.params.key);
    const value = shard.getMeta(key);
    if (value === undefined) throw new HttpError(404, `meta key "${key}" is not set`, "key");
    res.json({ key, value });
  });

  app.put("/v1/meta/:key", needReady, metaJson, async (req, res) => {
    const key = decodeMetaKey(req.params.key);
    const json = decodeMetaValue(jsonBody(req));
    await shard.putMeta(key, json);
    res.json({ key, value: JSON.parse(json) as unknown });
  });

  catchUp = mountSyncRoutes(app, shard, log);

  app.use((req, _res, next) => {
    next(new HttpError(404, `no route for ${req.method} ${req.path}`));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const { status, message, field } = describeError(err);
    if (status >= 500) log.error("request failed", { method: req.method, path: req.path, err });
    if (res.headersSent) return;
    res.status(status).json(field ? { error: message, field } : { error: message });
  });

  return app;
}

/** 409 when a request declares vectors of another model than this generation's; undefined otherwise. */
export function fingerprintRefusal(declared: string | undefined, fingerprint: string): HttpError | undefined {
  if (declared === undefined || declared === fingerprint) return undefined;
  return new HttpError(
    409,
    `model fingerprint mismatch: the request declares ${declared}, this shard's index generation was built with ${fingerprint}; ` +
      "send vectors from the generation's model, or send them to a generation built with that model",
    fingerprintHeader,
  );
}

export function notReady(): HttpError {
  return new HttpError(503, "shard is loading its index (see /readyz); retry shortly");
}

function bodyBytes(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function jsonBody(req: Request): unknown {
  if (!req.is("application/json")) {
    throw new HttpError(
      415,
      `unsupported Content-Type "${req.get("content-type") ?? ""}"; send application/json (or the binary form this route documents)`,
    );
  }
  return req.body as unknown;
}

function checkedId(id: unknown): string {
  if (typeof id !== "string" || id.length === 0 || id.length > maxIdLength)
    throw badRequest("id", `must be 1..${maxIdLength} characters`);
  return id;
}
