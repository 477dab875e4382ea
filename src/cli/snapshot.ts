// `embedops snapshot create|list|restore|delete` against the running `embedops serve` (its serve.json
// names each index's shard replicas) and a store: a directory or an S3-compatible bucket.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { generationName } from "../core/generation.js";
import { shardDataDir } from "../local/plan.js";
import { defaultDataDir, readServeState, type ServeState } from "../local/serve-state.js";
import { type CatalogEntry, listSnapshots } from "../snapshot/catalog.js";
import { createSnapshot } from "../snapshot/create.js";
import { snapshotRoot } from "../snapshot/layout.js";
import { PathStore } from "../snapshot/path-store.js";
import { restoreSnapshot } from "../snapshot/restore.js";
import { S3Store } from "../snapshot/s3-store.js";
import type { SnapshotStore } from "../snapshot/store.js";
import { parseStoreTarget } from "../snapshot/store-target.js";
import { createLogger } from "../util/log.js";
import { pick, pickInt, pickString, UsageError } from "./options.js";
import { clusterCreate, clusterRun } from "./snapshot-cluster.js";

const help = `usage: embedops snapshot <command> --store STORE [flags]

commands:
  create  --index NAME [--name SNAPSHOT] [--staging DIR|http]
                                           copy every shard of a served index (one replica each) to the store
  list    [--index NAME]                   snapshots in the store: complete, or incomplete (interrupted)
  restore SNAPSHOT --index NEW --shards N [--from-index OLD] [--replicas 1]
                                           lay the snapshot out as NEW's shard data dirs under --data-dir
  delete  SNAPSHOT [--from-index OLD]      remove a snapshot's objects

in a cluster (--kube --namespace NS [--kubeconfig FILE]; see README "Snapshots in a cluster"):
  create --kube --index NAME               record the run as IndexSnapshot NAME-YYYYMMDD-HHMMSS, copy the
                                           active generation, then spec.snapshot.retain (the CronJob's command)
  run [isnap/]SNAPSHOT --kube              drive an IndexSnapshot applied by hand (its Job's command)
  --shard-url URL[,URL]                    once per shard: replica URLs instead of the shard Services'
                                           in-cluster DNS names (outside a cluster, e.g. in tests)

STORE is path:/a/directory (it must exist) or s3://bucket[/prefix] with --endpoint URL; S3 credentials
come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_REGION optional), never from a flag.
--data-dir (default ${defaultDataDir}) is the running "embedops serve"'s: create reads its serve.json,
restore writes <data-dir>/indexes/NEW/<generation>/shard-<i>/replica-<r>.

create --staging: where each shard writes its consistent copy before it goes to the store.
  (default)  a path store's own <store>/.staging (same filesystem: files are renamed in, not copied);
             for S3, <data-dir>/snapshot-staging. The shards run on this machine under serve.
  DIR        a directory on the shards' host that this command reads too.
  http       the shard keeps the copy under its own data dir and serves it over its HTTP API; each
             file is streamed to the store and must match the size and sha256 the shard listed (what a
             cluster does, where the shard is another pod). The copy is deleted afterwards; one left
             by an interrupted snapshot is removed by the shard after an hour.

restore checks every file's sha256 before use and refuses a snapshot of another model: the expected
fingerprint is --fingerprint, else that of --model (a model of the running serve), else that of the
source index's model in the running serve. A different --shards moves every document to the shard its
id hashes to. Afterwards add a VectorIndex named NEW with the same model, shards and replicas to the
file serve runs, and restart serve: it serves the restored data. serve itself runs spec.snapshot's
schedule and retention (see README "Snapshots and restore"); in a cluster the VectorIndex's CronJob
runs create --kube.`;

const options = {
  store: { type: "string" },
  endpoint: { type: "string" },
  index: { type: "string" },
  "from-index": { type: "string" },
  name: { type: "string" },
  shards: { type: "string" },
  replicas: { type: "string" },
  model: { type: "string" },
  fingerprint: { type: "string" },
  "data-dir": { type: "string" },
  staging: { type: "string" },
  kube: { type: "boolean" },
  namespace: { type: "string" },
  kubeconfig: { type: "string" },
  "shard-url": { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, unknown>;

export function openStore(values: Values): { store: SnapshotStore; prefix: string } {
  const raw = pick(values, "store");
  if (raw === undefined) throw new UsageError(`--store is required\n\n${help}`);
  let target: ReturnType<typeof parseStoreTarget>;
  try {
    target = parseStoreTarget(raw);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (target.kind === "path") {
    if (!existsSync(target.dir))
      throw new UsageError(
        `--store ${raw}: directory ${resolve(target.dir)} does not exist; create it first`,
      );
    const store = new PathStore(target.dir);
    return { store, prefix: "" };
  }
  const endpoint = pick(values, "endpoint");
  if (endpoint === undefined)
    throw new UsageError(`--store ${raw} needs --endpoint URL (e.g. https://s3.eu-west-1.amazonaws.com)`);
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new UsageError(
      `--store ${raw} needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment`,
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

function serveState(dataDir: string): ServeState {
  const state = readServeState(dataDir);
  if (!state)
    throw new Error(
      `no running "embedops serve" found in ${dataDir} (no serve.json): start it, or pass its --data-dir`,
    );
  return state;
}

/** s-YYYYMMDD-HHMMSS in UTC: a Kubernetes name that sorts by time. */
export function defaultSnapshotName(at: Date): string {
  const iso = at.toISOString();
  return `s-${iso.slice(0, 10).replace(/-/g, "")}-${iso.slice(11, 19).replace(/:/g, "")}`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function create(values: Values, dataDir: string): Promise<void> {
  const index = pick(values, "index");
  if (index === undefined) throw new UsageError("snapshot create needs --index NAME (a served index)");
  const state = serveState(dataDir);
  const entry = state.indexes[index];
  if (!entry)
    throw new Error(
      `index "${index}" is not served; served: ${Object.keys(state.indexes).join(", ") || "none"}`,
    );
  const model = state.models[entry.model];
  if (!model)
    throw new Error(`serve.json names model "${entry.model}" for index "${index}" but has no such model`);
  const { store, prefix } = openStore(values);
  const snapshot = pick(values, "name") ?? defaultSnapshotName(new Date());
  const made = await createSnapshot({
    store,
    prefix,
    index,
    snapshot,
    generation: generationName(model.fingerprint),
    fingerprint: model.fingerprint,
    shards: entry.shards,
    ...stagingOf(pick(values, "staging"), store, dataDir),
    log: createLogger({ role: "snapshot" }),
  });
  const vectors = made.manifest.shards.reduce((n, s) => n + s.vectors, 0);
  process.stdout.write(
    `snapshot ${snapshot} of ${index}: ${made.shards.length} shards, ${vectors} vectors, ${mb(made.bytes)} ` +
      `at ${store.location}${made.root} (complete)\n`,
  );
}

/** --staging: "http" for the shards' HTTP API, a directory, or the store's / serve's default. */
function stagingOf(flag: string | undefined, store: SnapshotStore, dataDir: string): { stagingDir?: string } {
  if (flag === "http") return {};
  if (flag !== undefined) return { stagingDir: resolve(flag) };
  return { stagingDir: store.stagingDir ?? resolve(dataDir, "snapshot-staging") };
}

function table(entries: readonly CatalogEntry[]): string {
  const rows = [["INDEX", "SNAPSHOT", "STATUS", "SHARDS", "VECTORS", "SIZE", "CREATED"]];
  for (const e of entries) {
    const m = e.manifest;
    rows.push([
      e.index,
      e.snapshot,
      e.complete ? "complete" : "incomplete (no manifest; interrupted or running)",
      m ? String(m.shards.length) : "-",
      m ? String(m.shards.reduce((n, s) => n + s.vectors, 0)) : "-",
      mb(e.bytes),
      m?.createdAt ?? "-",
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The one snapshot called `name` (in --from-index, or in whichever index has it). */
async function findOne(
  store: SnapshotStore,
  prefix: string,
  name: string,
  fromIndex?: string,
): Promise<CatalogEntry> {
  const found = (await listSnapshots(store, prefix, fromIndex)).filter((e) => e.snapshot === name);
  if (found.length === 0)
    throw new Error(
      `no snapshot named ${name}${fromIndex ? ` of index ${fromIndex}` : ""} in the store; see embedops snapshot list`,
    );
  if (found.length > 1)
    throw new UsageError(
      `snapshot ${name} exists for several indexes (${found.map((f) => f.index).join(", ")}): pick one with --from-index`,
    );
  return found[0]!;
}

async function restore(values: Values, dataDir: string, name: string): Promise<void> {
  const index = pick(values, "index");
  if (index === undefined) throw new UsageError("snapshot restore needs --index NEW (the index to create)");
  const shards = pickInt(values, "shards", 0, 1, 64);
  if (shards === 0) throw new UsageError("snapshot restore needs --shards N (the new index's shard count)");
  const replicas = pickInt(values, "replicas", 1, 1, 16);
  const { store, prefix } = openStore(values);
  const entry = await findOne(store, prefix, name, pick(values, "from-index"));
  const expected = expectedFingerprint(values, dataDir, entry.index);
  // The generation is named after the fingerprint, which restore has just required to be the snapshot's.
  const generation = generationName(expected);
  const result = await restoreSnapshot({
    store,
    root: snapshotRoot(prefix, entry.index, entry.snapshot),
    expectedFingerprint: expected,
    shards,
    replicas,
    targetDir: (s, r) => shardDataDir(dataDir, index, generation, `shard-${s}`, r),
    stagingDir: resolve(dataDir, "snapshot-staging", `restore-${index}`),
    log: createLogger({ role: "snapshot" }),
  });
  process.stdout.write(
    `restored ${entry.index}/${name} into index ${index}: ${shards} shards x ${replicas} replicas, ` +
      `${result.documents} documents${result.redistributed ? " (moved by id hash)" : ""}, ` +
      `every file's sha256 checked, under ${resolve(dataDir, "indexes", index, generation)}\n` +
      `next: add a VectorIndex named ${index} (shards: ${shards}, replicas: ${replicas}, the model with ` +
      `fingerprint ${expected}) to the file serve runs, and restart embedops serve\n`,
  );
}

function expectedFingerprint(values: Values, dataDir: string, sourceIndex: string): string {
  const flag = pick(values, "fingerprint");
  if (flag !== undefined) return flag;
  const state = readServeState(dataDir);
  const model = pick(values, "model") ?? state?.indexes[sourceIndex]?.model;
  const fp = model === undefined ? undefined : state?.models[model]?.fingerprint;
  if (fp === undefined)
    throw new UsageError(
      `cannot tell which model fingerprint the restored index will serve: pass --model NAME (a model of ` +
        `the running serve) or --fingerprint FP`,
    );
  return fp;
}

export async function run(argv: string[]): Promise<void> {
  // A shard pod's init container (VectorIndex spec.restore): its own flags, see its --help.
  if (argv[0] === "restore-shard") return (await import("./snapshot-restore-shard.js")).run(argv.slice(1));
  if (argv[0] === "seed-replica") return (await import("./snapshot-seed-replica.js")).run(argv.slice(1));
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options });
  const [command, name] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${help}\n`);
    return;
  }
  if (values.kube && command === "create") return clusterCreate(values, openStore);
  if (command === "run") {
    if (!values.kube || name === undefined) throw new UsageError("snapshot run needs SNAPSHOT and --kube");
    return clusterRun(values, name, openStore);
  }
  const dataDir = resolve(pickString(values, "data-dir", defaultDataDir));
  switch (command) {
    case "create":
      return create(values, dataDir);
    case "list": {
      const { store, prefix } = openStore(values);
      const entries = await listSnapshots(store, prefix, pick(values, "index"));
      process.stdout.write(entries.length === 0 ? "no snapshots\n" : `${table(entries)}\n`);
      return;
    }
    case "restore":
      if (name === undefined) throw new UsageError("snapshot restore needs the snapshot's name");
      return restore(values, dataDir, name);
    case "delete": {
      if (name === undefined) throw new UsageError("snapshot delete needs the snapshot's name");
      const { store, prefix } = openStore(values);
      const entry = await findOne(store, prefix, name, pick(values, "from-index"));
      const n = await store.deletePrefix(entry.root);
      process.stdout.write(`deleted snapshot ${entry.index}/${name}: ${n} objects\n`);
      return;
    }
    default:
      throw new UsageError(`unknown snapshot command "${command}"\n\n${help}`);
  }
}
