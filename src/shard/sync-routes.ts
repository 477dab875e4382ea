// Replica seeding's shard routes. A ready replica answers GET /v1/sync/rows (its rows after a seq,
// tombstones and payload included); a syncing one runs POST /v1/sync {from, afterSeq} (peer-sync.ts)
// and reports its progress on GET /v1/sync. Internal: only serve (and in a cluster the operator)
// calls them, like /v1/snapshot.
import express, { type Express } from "express";
import type { Logger } from "../util/log.js";
import { badRequest, HttpError } from "./errors.js";
import { PEER_PAGE_ROWS, PeerSync } from "./peer-sync.js";
import type { Shard } from "./shard.js";

const MAX_PAGE_ROWS = 5000;

function intParam(raw: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (raw === undefined && fallback !== undefined) return fallback;
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : typeof raw === "number" ? raw : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw badRequest(field, `must be an integer from ${min} to ${max}`);
  return n;
}

/** Mounts the routes; answers the catch-up so /readyz can say while one runs. */
export function mountSyncRoutes(app: Express, shard: Shard, log: Logger): PeerSync {
  const sync = new PeerSync(shard, log);
  const ready = () => {
    if (!shard.ready) throw new HttpError(503, "shard is loading its index (see /readyz); retry shortly");
  };

  app.get("/v1/sync/rows", (req, res) => {
    ready();
    const q = req.query as Record<string, unknown>;
    const afterSeq = intParam(q["afterSeq"], "afterSeq", 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(q["limit"], "limit", 1, MAX_PAGE_ROWS, PEER_PAGE_ROWS);
    res.json(shard.peerRows(afterSeq, limit));
  });

  app.post("/v1/sync", express.json({ limit: "64kb" }), (req, res) => {
    ready();
    const body = (req.body ?? {}) as { from?: unknown; afterSeq?: unknown };
    if (typeof body.from !== "string" || !/^https?:\/\/\S+$/.test(body.from))
      throw badRequest("from", "must be the http(s) URL of a ready replica of this shard");
    const afterSeq = intParam(body.afterSeq, "afterSeq", 0, Number.MAX_SAFE_INTEGER);
    res.status(202).json(sync.start(body.from, afterSeq));
  });

  app.get("/v1/sync", (_req, res) => {
    res.json(sync.status);
  });
  return sync;
}
