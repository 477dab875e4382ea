// `embedops snapshot restore-shard`: the init container of a shard pod whose generation is filled
// from a snapshot (VectorIndex spec.restore; src/builders/shard-statefulset.ts withShardRestore).
// It fills the pod's own data dir with its shard's part of the snapshot, once: a data dir that
// already holds a shard database is left alone, so a restarted pod never restores over newer writes.
//
// restoreSnapshot lays out every shard of the target (it checks every file's sha256 first, and with
// another shard count moves documents by id hash), so this restores the whole snapshot into a work
// directory on the same volume and renames this shard's files into place, the database last: until
// it is there the data dir counts as empty and an interrupted run starts over. The cost: each pod
// downloads the whole snapshot and briefly needs room for all of it on its volume.
import { existsSync } from "node:fs";
import { readdir, rename, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { syncDir } from "../snapshot/atomic-file.js";
import { snapshotRoot } from "../snapshot/layout.js";
import { PathStore } from "../snapshot/path-store.js";
import { DATABASE_FILE, restoreSnapshot } from "../snapshot/restore.js";
import { S3Store } from "../snapshot/s3-store.js";
import type { SnapshotStore } from "../snapshot/store.js";
import { parseStoreTarget } from "../snapshot/store-target.js";
import { createLogger, type Logger } from "../util/log.js";
import { pick, pickInt, UsageError } from "./options.js";

const help = `usage: embedops snapshot restore-shard --snapshot NAME --from-index INDEX --shard I --shards N
         --fingerprint FP --data-dir DIR --store STORE [--endpoint URL]

Fills DIR (one shard replica's data dir) with shard I of an N-shard index from snapshot NAME of INDEX,
after checking every file's sha256; refuses a snapshot whose model fingerprint is not FP. A DIR that
already holds a shard database is left as it is. STORE is path:/a/directory or s3://bucket[/prefix]
with --endpoint; S3 credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_REGION
optional). The operator runs this as the init container of a VectorIndex's shards (spec.restore).`;

const options = {
  snapshot: { type: "string" },
  "from-index": { type: "string" },
  shard: { type: "string" },
  shards: { type: "string" },
  fingerprint: { type: "string" },
  "data-dir": { type: "string" },
  store: { type: "string" },
  endpoint: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Work directory inside the data dir (same volume, so the move is a rename); the shard never reads it. */
export const RESTORE_WORK_DIR = ".restore";

export interface RestoreShardInput {
  readonly store: SnapshotStore;
  /** The snapshot's root key (layout.ts snapshotRoot). */
  readonly root: string;
  readonly fingerprint: string;
  readonly shard: number;
  readonly shards: number;
  readonly dataDir: string;
  readonly log: Logger;
}

export type RestoreShardResult =
  | { readonly restored: false }
  | { readonly restored: true; readonly documents: number; readonly bytes: number };

export async function restoreShard(input: RestoreShardInput): Promise<RestoreShardResult> {
  const { dataDir, log, shard } = input;
  if (existsSync(join(dataDir, DATABASE_FILE))) {
    log.info("restore skipped: the shard data dir already holds a database", {
      dataDir,
      snapshot: input.root,
    });
    return { restored: false };
  }
  const work = join(dataDir, RESTORE_WORK_DIR);
  // What an interrupted run may have left (no database yet, so nothing a shard wrote).
  for (const leftover of [work, join(dataDir, "checkpoints"), ...sqliteSidecars(dataDir)])
    await rm(leftover, { recursive: true, force: true });
  const result = await restoreSnapshot({
    store: input.store,
    root: input.root,
    expectedFingerprint: input.fingerprint,
    shards: input.shards,
    replicas: 1,
    targetDir: (s) => join(work, `shard-${s}`),
    stagingDir: join(work, "staging"),
    log,
  });
  const mine = join(work, `shard-${shard}`);
  const names = (await readdir(mine)).sort(
    (a, b) => Number(a === DATABASE_FILE) - Number(b === DATABASE_FILE),
  );
  for (const name of names) await rename(join(mine, name), join(dataDir, name));
  await syncDir(dataDir);
  await rm(work, { recursive: true, force: true });
  const documents = result.perShard[shard] ?? 0;
  log.info("shard restored from snapshot", {
    snapshot: input.root,
    shard,
    shards: input.shards,
    documents,
    redistributed: result.redistributed,
    downloadedBytes: result.bytes,
  });
  return { restored: true, documents, bytes: result.bytes };
}

const sqliteSidecars = (dir: string) =>
  ["-wal", "-shm", "-journal"].map((s) => join(dir, `${DATABASE_FILE}${s}`));

function openStore(raw: string, endpoint: string | undefined): { store: SnapshotStore; prefix: string } {
  let target: ReturnType<typeof parseStoreTarget>;
  try {
    target = parseStoreTarget(raw);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (target.kind === "path") {
    if (!existsSync(target.dir))
      throw new UsageError(
        `--store ${raw}: directory ${resolve(target.dir)} does not exist; mount the snapshot PVC there`,
      );
    return { store: new PathStore(target.dir), prefix: "" };
  }
  if (endpoint === undefined) throw new UsageError(`--store ${raw} needs --endpoint URL`);
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new UsageError(
      `--store ${raw} needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment ` +
        `(in a cluster: keys of the Secret spec.snapshot.store.s3.secretRef names)`,
    );
  const region = process.env.AWS_REGION;
  const store = new S3Store({
    endpoint,
    bucket: target.bucket,
    credentials: { accessKeyId, secretAccessKey },
    ...(region ? { region } : {}),
  });
  return { store, prefix: target.prefix };
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const need = (flag: keyof typeof options): string => {
    const v = pick(values, flag);
    if (v === undefined) throw new UsageError(`snapshot restore-shard needs --${flag}\n\n${help}`);
    return v;
  };
  const snapshot = need("snapshot");
  const fromIndex = need("from-index");
  const fingerprint = need("fingerprint");
  const dataDir = resolve(need("data-dir"));
  const shards = pickInt(values, "shards", 0, 1, 64);
  if (shards === 0) throw new UsageError(`snapshot restore-shard needs --shards N\n\n${help}`);
  const shard = pickInt(values, "shard", -1, 0, shards - 1);
  if (shard < 0) throw new UsageError(`snapshot restore-shard needs --shard I (0 to ${shards - 1})`);
  const { store, prefix } = openStore(need("store"), pick(values, "endpoint"));
  let root: string;
  try {
    root = snapshotRoot(prefix, fromIndex, snapshot);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const log = createLogger({ role: "snapshot-restore", shard });
  const result = await restoreShard({ store, root, fingerprint, shard, shards, dataDir, log });
  process.stdout.write(
    result.restored
      ? `restored shard ${shard} of ${shards} from ${fromIndex}/${snapshot} into ${dataDir}: ` +
          `${result.documents} documents, every file's sha256 checked\n`
      : `${dataDir} already holds a shard database: nothing restored\n`,
  );
}
