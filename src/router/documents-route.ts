// Ingest and deletion: embed texts with the document prefix, route each id to its shard by the
// stable hash, and write to every replica of that shard under the write quorum.
import type { RequestHandler } from "express";
import { HttpError } from "./errors.js";
import type { GenerationRuntime } from "./generation-runtime.js";
import { parseBody } from "./parse-body.js";
import type { ShardReplicas } from "./replica-pool.js";
import { replicatedWrite } from "./replicated-write.js";
import { deleteSchema, documentsSchema, MAX_ID_LENGTH } from "./request-schemas.js";
import type { RouterDeps } from "./router-deps.js";
import type { ShardPoint } from "./shard-client.js";
import { shardForId } from "./shard-hash.js";
import { UpstreamError } from "./upstream-error.js";

/** Writes move more bytes and run HNSW inserts: allow them longer than a query. */
export function writeTimeoutMs(rt: GenerationRuntime): number {
  return Math.max(rt.config.timeoutMs, 30_000);
}

function groupByShard<T extends { id: string }>(rt: GenerationRuntime, items: readonly T[]) {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const s = shardForId(item.id, rt.shards.length);
    const g = groups.get(s);
    if (g) g.push(item);
    else groups.set(s, [item]);
  }
  return [...groups]
    .sort(([a], [b]) => a - b)
    .map(([s, items]) => ({ shard: rt.shards[s] as ShardReplicas, items }));
}

export function upsertDocumentsRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const body = parseBody(documentsSchema, req);
    const rt = deps.runtime();
    const timeoutMs = writeTimeoutMs(rt);
    const vectors = await rt.encoder.embed(
      body.documents.map((d) => d.text),
      "document",
      timeoutMs,
    );
    const points: ShardPoint[] = body.documents.map((d, i) => ({
      id: d.id,
      vector: vectors[i]!,
      metadata: d.metadata,
      text: d.text,
    }));
    const shards = await replicatedWrite(
      groupByShard(rt, points),
      rt.config.writeQuorum,
      "upsert",
      deps.metrics,
      (replica, items, live) =>
        rt.shardClient.upsert(replica, items, { timeoutMs: live ? timeoutMs : rt.config.timeoutMs }),
      (items) => items.length,
    );
    res.json({ upserted: points.length, shards });
  };
}

async function deleteIds(deps: RouterDeps, ids: readonly string[]) {
  const rt = deps.runtime();
  const timeoutMs = writeTimeoutMs(rt);
  const work = groupByShard(
    rt,
    [...new Set(ids)].map((id) => ({ id })),
  ).map(({ shard, items }) => ({ shard, items: items.map((i) => i.id) }));
  const shards = await replicatedWrite(
    work,
    rt.config.writeQuorum,
    "delete",
    deps.metrics,
    (replica, items, live) =>
      rt.shardClient.delete(replica, items, { timeoutMs: live ? timeoutMs : rt.config.timeoutMs }),
    (items) => items.length,
  );
  return { deleted: work.reduce((n, w) => n + w.items.length, 0), shards };
}

export function deleteDocumentsRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const body = parseBody(deleteSchema, req);
    res.json(await deleteIds(deps, body.ids));
  };
}

export function deleteDocumentRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const id = String(req.params.id ?? "");
    checkId(id);
    res.json(await deleteIds(deps, [id]));
  };
}

function checkId(id: string): void {
  if (id === "" || id.length > MAX_ID_LENGTH) {
    throw new HttpError(400, "invalid_request", `id: must be 1-${MAX_ID_LENGTH} characters`, { field: "id" });
  }
}

/** GET /v1/documents/:id — asks the owning shard's replicas in turn until one answers. */
export function getDocumentRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const id = String(req.params.id ?? "");
    checkId(id);
    const rt = deps.runtime();
    const shard = rt.shards[shardForId(id, rt.shards.length)]!;
    const errors: string[] = [];
    const ordered = [...shard.replicas].sort((a, b) => Number(b.live) - Number(a.live));
    for (const r of ordered) {
      try {
        const point = await rt.shardClient.get(r.url, id, { timeoutMs: rt.config.timeoutMs });
        if (point === undefined) {
          throw new HttpError(
            404,
            "not_found",
            `document "${id}" is not in index ${rt.config.index} (its shard is ${shard.name})`,
            {
              shard: shard.name,
            },
          );
        }
        res.json({ ...point, shard: shard.name });
        return;
      } catch (err) {
        if (err instanceof HttpError) throw err;
        if (err instanceof UpstreamError && err.clientFault) {
          throw new HttpError(err.status, "shard_refused", `shard ${shard.name}: ${err.upstreamMessage}`, {
            shard: shard.name,
          });
        }
        errors.push(`${r.url}: ${(err as Error).message}`);
      }
    }
    throw new HttpError(503, "shard_unavailable", `shard ${shard.name} unavailable: ${errors.join("; ")}`, {
      shards: [shard.name],
    });
  };
}
