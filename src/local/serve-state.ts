// `embedops serve` records where its servers listen in <data-dir>/serve.json, so that
// `embedops ingest` and `embedops query` find the router without flags.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { replaceJsonFile } from "../util/replace-file.js";

export const defaultDataDir = ".embedops";

const serveState = z.object({
  pid: z.number().int(),
  file: z.string(),
  /** serve's own /metrics (rollouts), when it listens. */
  metrics: z.string().optional(),
  models: z.record(z.string(), z.object({ url: z.string(), fingerprint: z.string() })),
  indexes: z.record(
    z.string(),
    z.object({
      router: z.string(),
      model: z.string(),
      shards: z.array(z.array(z.string())),
      /** Replicas being seeded (replica-seeder.ts): not queried until they caught up with a peer. */
      seeding: z
        .array(
          z.object({
            shard: z.string(),
            replica: z.number(),
            phase: z.enum(["copying", "starting", "joining", "syncing", "failed"]),
            url: z.string().optional(),
            watermark: z.number().optional(),
            syncedRows: z.number().optional(),
            sourceSeq: z.number().optional(),
            readSeq: z.number().optional(),
            error: z.string().optional(),
          }),
        )
        .optional(),
      /** spec.restore: the snapshot the index was filled from (restore-at-start.ts). */
      restoredFrom: z
        .object({ snapshot: z.string(), location: z.string(), documents: z.number() })
        .optional(),
    }),
  ),
});
export type ServeState = z.infer<typeof serveState>;

export function serveStatePath(dataDir: string): string {
  return join(dataDir, "serve.json");
}

export function writeServeState(dataDir: string, state: ServeState): void {
  replaceJsonFile(serveStatePath(dataDir), state);
}

export function readServeState(dataDir: string): ServeState | undefined {
  const path = serveStatePath(dataDir);
  if (!existsSync(path)) return undefined;
  const parsed = serveState.safeParse(JSON.parse(readFileSync(path, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

/**
 * The router URL for `ingest`/`query`: --router wins; otherwise the running `embedops serve`'s
 * router for --index (or its only index).
 */
export function resolveRouterUrl(
  dataDir: string,
  router: string | undefined,
  index: string | undefined,
): string {
  if (router) return router.replace(/\/+$/, "");
  const state = readServeState(dataDir);
  if (!state) {
    throw new Error(
      `no router given and no running "embedops serve" found in ${dataDir}: start one with ` +
        `"embedops serve -f examples/quickstart.yaml" or pass --router URL`,
    );
  }
  const names = Object.keys(state.indexes);
  const name = index ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined)
    throw new Error(`several indexes are served (${names.join(", ")}): pick one with --index`);
  const entry = state.indexes[name];
  if (!entry) throw new Error(`index "${name}" is not served; served: ${names.join(", ") || "none"}`);
  return entry.router;
}
