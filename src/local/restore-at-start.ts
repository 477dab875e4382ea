// spec.restore under `embedops serve`: a VectorIndex that names a snapshot is filled from it before
// its shards first start, then records where its data came from in
// <data-dir>/indexes/<index>/restored-from.json (and serve.json), so a restart never restores again
// over documents written since.
//
// Where the snapshot is: serve has no IndexSnapshot objects, so it looks for a complete snapshot of
// that name in the stores the file names — the index's own spec.snapshot.store first, then every
// other index's — and takes the one index it belongs to from the store's layout
// (<prefix>/<index>/<snapshot>/). restoreSnapshot checks every file's sha256 before it writes a target,
// refuses a snapshot of another model fingerprint, and moves documents by id hash when the shard
// count differs. When spec.quality is set, the recall gate (ANN against exact search on the golden
// queries) runs once on the restored data and its result is recorded next to the source.
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { SnapshotPolicy } from "../api/v1alpha1/snapshot-policy.js";
import type { GenerationRef } from "../generation/generation-rollout.js";
import { type GateGeneration, runRecallGate } from "../generation/recall-gate.js";
import { HttpClient } from "../router/http-client.js";
import { listSnapshots } from "../snapshot/catalog.js";
import { restoreSnapshot } from "../snapshot/restore.js";
import type { SnapshotStore } from "../snapshot/store.js";
import type { Logger } from "../util/log.js";
import { replaceJsonFile } from "../util/replace-file.js";
import { type LocalIndex, shardDataDir } from "./plan.js";

export const RestoreRecord = z.object({
  snapshot: z.string(),
  /** The index the snapshot was taken of. */
  sourceIndex: z.string(),
  /** Store location and root key, e.g. s3://bucket/prefix/docs/s1/. */
  location: z.string(),
  fingerprint: z.string(),
  documents: z.number().int().min(0),
  perShard: z.array(z.number().int().min(0)),
  redistributed: z.boolean(),
  restoredAt: z.string(),
  /** The golden-set recall check on the restored data, when spec.quality is set. */
  quality: z.object({ pass: z.boolean(), recall: z.number().optional(), message: z.string() }).optional(),
});
export type RestoreRecord = z.infer<typeof RestoreRecord>;

export function restoreRecordPath(dataDir: string, index: string): string {
  return join(dataDir, "indexes", index, "restored-from.json");
}

export function readRestoreRecord(dataDir: string, index: string): RestoreRecord | undefined {
  const path = restoreRecordPath(dataDir, index);
  if (!existsSync(path)) return undefined;
  const parsed = RestoreRecord.safeParse(JSON.parse(readFileSync(path, "utf8")));
  return parsed.success ? parsed.data : undefined;
}

export function writeRestoreRecord(dataDir: string, index: string, record: RestoreRecord): void {
  replaceJsonFile(restoreRecordPath(dataDir, index), record);
}

export type RestoreStep =
  /** No spec.restore. */
  | { kind: "none" }
  /** Restored before (the record says from what): serve the data as it is now. */
  | { kind: "restored"; record: RestoreRecord }
  /** Data without a record: documents were written without the restore; never overwrite them. */
  | { kind: "data-present" }
  | { kind: "restore"; snapshot: string };

/** What serve does with an index's spec.restore at start-up; pure. */
export function restoreStep(input: {
  readonly snapshotName: string | undefined;
  readonly record: RestoreRecord | undefined;
  readonly dataPresent: boolean;
}): RestoreStep {
  if (input.snapshotName === undefined) return { kind: "none" };
  if (input.record) return { kind: "restored", record: input.record };
  if (input.dataPresent) return { kind: "data-present" };
  return { kind: "restore", snapshot: input.snapshotName };
}

/** The stores to look in for `index`'s snapshot: its own first, then the other indexes', each once; pure. */
export function storesToSearch(
  index: LocalIndex,
  all: readonly LocalIndex[],
): { owner: string; store: SnapshotPolicy["store"] }[] {
  const out: { owner: string; store: SnapshotPolicy["store"] }[] = [];
  const seen = new Set<string>();
  for (const i of [index, ...all.filter((o) => o.name !== index.name)]) {
    const store = i.snapshot?.store;
    if (!store) continue;
    const key = JSON.stringify(store);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ owner: i.name, store });
  }
  return out;
}

/** Whether any of the generation's shard data dirs holds a file. */
export function generationDataPresent(dataDir: string, index: LocalIndex, generation: string): boolean {
  for (const shard of index.shards)
    for (let r = 0; r < index.replicas; r++) {
      const dir = shardDataDir(dataDir, index.name, generation, shard, r);
      if (existsSync(dir) && readdirSync(dir).length > 0) return true;
    }
  return false;
}

export interface RestoreAtStartIo {
  readonly dataDir: string;
  openStore(owner: string, store: SnapshotPolicy["store"]): Promise<{ store: SnapshotStore; prefix: string }>;
  readonly log: Logger;
  now(): Date;
}

/**
 * Fills `index`'s generation `ref` from its spec.restore snapshot when that has not happened yet;
 * returns the record (new or earlier), or undefined without spec.restore. Throws an error that says
 * what to fix when the snapshot cannot be found, is incomplete, corrupt or of another model.
 */
export async function restoreAtStart(
  index: LocalIndex,
  all: readonly LocalIndex[],
  ref: GenerationRef,
  io: RestoreAtStartIo,
): Promise<RestoreRecord | undefined> {
  const who = `VectorIndex "${index.name}"`;
  const step = restoreStep({
    snapshotName: index.restore?.snapshotName,
    record: readRestoreRecord(io.dataDir, index.name),
    dataPresent: generationDataPresent(io.dataDir, index, ref.generation),
  });
  if (step.kind === "none") return undefined;
  if (step.kind === "restored") return step.record;
  if (step.kind === "data-present") {
    io.log.warn("spec.restore ignored: the index already holds data that no restore wrote", {
      index: index.name,
      snapshot: index.restore?.snapshotName,
      hint: "spec.restore is read when the index is created; to restore over this data, remove the index's data dir first",
    });
    return undefined;
  }
  const stores = storesToSearch(index, all);
  if (stores.length === 0)
    throw new Error(
      `${who}: spec.restore names snapshot "${step.snapshot}" but no VectorIndex in the file sets ` +
        `spec.snapshot.store; add the store the snapshot is in (store.pvc is <data-dir>/snapshots/<claimName>/ under serve)`,
    );
  const searched: string[] = [];
  const incomplete: string[] = [];
  for (const { owner, store: policy } of stores) {
    const { store, prefix } = await io.openStore(owner, policy);
    searched.push(store.location);
    const matches = (await listSnapshots(store, prefix)).filter((e) => e.snapshot === step.snapshot);
    const complete = matches.filter((e) => e.complete);
    if (complete.length > 1)
      throw new Error(
        `${who}: snapshot "${step.snapshot}" exists for several indexes in ${store.location} ` +
          `(${complete.map((e) => e.index).join(", ")}); restore one with "embedops snapshot restore ${step.snapshot} --from-index SRC" instead`,
      );
    const entry = complete[0];
    if (!entry) {
      incomplete.push(...matches.map((e) => `${store.location}${e.root}`));
      continue;
    }
    const stagingDir = join(io.dataDir, "staging", `restore-${index.name}-${randomBytes(4).toString("hex")}`);
    const result = await restoreSnapshot({
      store,
      root: entry.root,
      expectedFingerprint: ref.fingerprint,
      shards: index.shards.length,
      replicas: index.replicas,
      targetDir: (s, r) => shardDataDir(io.dataDir, index.name, ref.generation, index.shards[s]!, r),
      stagingDir,
      log: io.log,
    });
    const record: RestoreRecord = {
      snapshot: step.snapshot,
      sourceIndex: entry.index,
      location: `${store.location}${entry.root}`,
      fingerprint: ref.fingerprint,
      documents: result.documents,
      perShard: [...result.perShard],
      redistributed: result.redistributed,
      restoredAt: io.now().toISOString(),
    };
    writeRestoreRecord(io.dataDir, index.name, record);
    return record;
  }
  throw new Error(
    incomplete.length > 0
      ? `${who}: snapshot "${step.snapshot}" is incomplete (no top manifest: its create was interrupted) at ` +
          `${incomplete.join(", ")}; restore another snapshot (embedops snapshot list) and change spec.restore`
      : `${who}: no snapshot "${step.snapshot}" in ${searched.join(", ")}; ` +
          `list them with "embedops snapshot list --store …" and fix spec.restore.snapshotName`,
  );
}

/** A served generation the recall check asks: its encoder and one replica list per shard. */
export interface ServedGeneration {
  readonly ref: GenerationRef;
  readonly encoderUrl: string;
  readonly shards: readonly (readonly string[])[];
}

const gateGeneration = (name: string, g: ServedGeneration): GateGeneration => ({
  name,
  fingerprint: g.ref.fingerprint,
  encoderUrl: g.encoderUrl,
  shards: g.shards.map((replicas, i) => ({ name: `shard-${i}`, replicas })),
});

/**
 * Once the restored generation's shards serve: spec.quality's recall gate runs once and its verdict
 * joins the record. recall@k of the restored graph's answers against exact search must reach
 * minRecall; where the golden set lists relevant ids and the source index is served too (same
 * model), the restored index's recall of them must not fall below the source's by more than the
 * gate's tolerance. Without the source, relevant ids are not compared (the record says so). A low
 * recall, or a check that could not measure, does not stop serving (the documents are the
 * snapshot's either way): it is said loudly, with what to look at.
 */
export async function checkRestoredQuality(
  index: LocalIndex,
  record: RestoreRecord,
  restored: ServedGeneration,
  source: ServedGeneration | undefined,
  io: RestoreAtStartIo,
): Promise<RestoreRecord> {
  const quality = index.quality!;
  const golden = source ? quality.golden : quality.golden.map((q) => ({ ...q, relevant: [] }));
  let outcome: { pass: boolean; recall?: number; message: string };
  try {
    const verdict = await runRecallGate({
      golden,
      k: quality.k,
      minRecall: quality.minRecall,
      candidate: gateGeneration(`${index.name} (restored ${record.snapshot})`, restored),
      ...(source ? { current: gateGeneration(`${record.sourceIndex} (source)`, source) } : {}),
      http: new HttpClient(8),
    });
    outcome = {
      pass: verdict.pass,
      recall: verdict.recallAtK,
      message:
        verdict.message +
        (source ? "" : `; relevant ids not compared: the source index ${record.sourceIndex} is not served`),
    };
  } catch (err) {
    outcome = { pass: false, message: `not measured: ${(err as Error).message}` };
  }
  const checked: RestoreRecord = { ...record, quality: outcome };
  writeRestoreRecord(io.dataDir, index.name, checked);
  if (outcome.pass) io.log.info("restore: golden-set recall check passed", { index: index.name, ...outcome });
  else
    io.log.warn("restore: golden-set recall check failed", {
      index: index.name,
      ...outcome,
      hint: "the restored index answers worse than spec.quality asks: compare the snapshot's HNSW parameters with spec.hnsw, or restore another snapshot",
    });
  return checked;
}
