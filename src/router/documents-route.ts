// Ingest and deletion: embed texts with the document prefix, route each id to its shard by the
// stable hash, and write to every replica of that shard under the write quorum. While the index
// moves to a new model, every write goes to both generations, each embedded by its own encoder and
// routed by its own shard count, and is acknowledged only when both committed: an acknowledged write
// is in the generation that will be promoted as well as in the one serving now.
import type { RequestHandler } from "express";
import type { Logger } from "../util/log.js";
import { HttpError, toHttpError } from "./errors.js";
import type { GenerationRuntime } from "./generation-runtime.js";
import type { IndexRuntime } from "./index-runtime.js";
import { parseBody } from "./parse-body.js";
import { isStale, type ReplicaState, type ShardReplicas } from "./replica-pool.js";
import { replicatedWrite, type ShardWriteReport } from "./replicated-write.js";
import { type DocumentsRequest, deleteSchema, documentsSchema, MAX_ID_LENGTH } from "./request-schemas.js";
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

type ShardReports = Record<string, ShardWriteReport>;

/**
 * Runs `write` on every generation at once. Answers the active generation's shard reports, the
 * candidate's beside them, and the names of the generations written; throws when any generation did
 * not commit, naming it (a candidate's server-side failure is a 503 even if its cause was a timeout).
 */
async function everyGeneration(
  index: IndexRuntime,
  log: Logger,
  write: (rt: GenerationRuntime) => Promise<ShardReports>,
): Promise<{
  shards: ShardReports;
  generations: string[];
  candidate?: { generation: string; shards: ShardReports };
}> {
  const gens = index.generations();
  index.writesInFlight++;
  const settled = await Promise.allSettled(gens.map(write)).finally(() => {
    index.writesInFlight--;
  });
  const failed = settled.flatMap((r, i) =>
    r.status === "rejected"
      ? [{ rt: gens[i]!, reason: r.reason as unknown, err: toHttpError(r.reason) }]
      : [],
  );
  if (failed.length > 0) {
    if (gens.length === 1) throw failed[0]!.reason;
    const { rt, err } = failed[0]!;
    // Not an HttpError is our bug: the answer below would hide its stack.
    for (const f of failed)
      if (!(f.reason instanceof HttpError))
        log.error("write failed", { generation: f.rt.name, err: f.reason });
    const held = gens.filter((g) => !failed.some((f) => f.rt === g)).map((g) => g.name);
    const detail = failed
      .map((f) => `generation ${f.rt.name} (${f.rt.generation.role}): ${f.err.message}`)
      .join(" | ");
    const message =
      `not acknowledged: every write goes to both generations while index ${index.config.index} moves to a new model, and ${detail}` +
      (held.length > 0
        ? ` Generation ${held.join(", ")} may hold the write; retrying the same request is safe.`
        : "");
    const details = { ...err.details, generation: rt.name, generations: failed.map((f) => f.rt.name) };
    // The request's own fault (a 4xx) stays one; a candidate that did not commit is unavailable.
    if (err.status >= 500 && rt.generation.role === "candidate")
      throw new HttpError(503, "candidate_unavailable", message, details);
    throw new HttpError(err.status, err.code, message, details);
  }
  const reports = settled.map((r) => (r.status === "fulfilled" ? r.value : {}));
  return {
    shards: reports[0]!,
    generations: gens.map((g) => g.name),
    ...(index.candidate ? { candidate: { generation: index.candidate.name, shards: reports[1]! } } : {}),
  };
}

async function upsertInto(deps: RouterDeps, rt: GenerationRuntime, docs: DocumentsRequest["documents"]) {
  const timeoutMs = writeTimeoutMs(rt);
  const vectors = await rt.encoder.embed(
    docs.map((d) => d.text),
    "document",
    timeoutMs,
  );
  const points: ShardPoint[] = docs.map((d, i) => ({
    id: d.id,
    vector: vectors[i]!,
    metadata: d.metadata,
    text: d.text,
  }));
  return replicatedWrite(
    groupByShard(rt, points),
    rt.config.writeQuorum,
    "upsert",
    deps.metrics,
    (replica, items, live) =>
      rt.shardClient.upsert(replica, items, { timeoutMs: live ? timeoutMs : rt.config.timeoutMs }),
    (items) => items.length,
    { log: deps.log, generation: rt.name },
  );
}

export function upsertDocumentsRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const body = parseBody(documentsSchema, req);
    const written = await everyGeneration(deps.runtime(), deps.log, (rt) =>
      upsertInto(deps, rt, body.documents),
    );
    res.json({ upserted: body.documents.length, ...written });
  };
}

async function deleteFrom(deps: RouterDeps, rt: GenerationRuntime, ids: readonly string[]) {
  const timeoutMs = writeTimeoutMs(rt);
  const work = groupByShard(
    rt,
    ids.map((id) => ({ id })),
  ).map(({ shard, items }) => ({ shard, items: items.map((i) => i.id) }));
  return replicatedWrite(
    work,
    rt.config.writeQuorum,
    "delete",
    deps.metrics,
    (replica, items, live) =>
      rt.shardClient.delete(replica, items, { timeoutMs: live ? timeoutMs : rt.config.timeoutMs }),
    (items) => items.length,
    { log: deps.log, generation: rt.name },
  );
}

async function deleteIds(deps: RouterDeps, ids: readonly string[]) {
  const unique = [...new Set(ids)];
  const written = await everyGeneration(deps.runtime(), deps.log, (rt) => deleteFrom(deps, rt, unique));
  return { deleted: unique.length, ...written };
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

/**
 * GET /v1/documents/:id — asks the owning shard's replicas in turn until one answers; always the
 * active generation, the one queries are answered from by default.
 */
export function getDocumentRoute(deps: RouterDeps): RequestHandler {
  return async (req, res) => {
    const id = String(req.params.id ?? "");
    checkId(id);
    const rt = deps.runtime().active;
    const shard = rt.shards[shardForId(id, rt.shards.length)]!;
    const errors: string[] = [];
    // A syncing replica may not hold the document yet: its "not found" would be wrong. A lagging one
    // is asked last, when no in-sync replica answered.
    const rank = (r: ReplicaState) => (r.live ? 0 : 2) + (isStale(r) ? 1 : 0);
    const ordered = shard.replicas.filter((r) => !r.syncing).sort((a, b) => rank(a) - rank(b));
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
        res.json({ ...point, shard: shard.name, generation: rt.name });
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
