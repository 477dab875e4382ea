// `embedops snapshot seed-replica`: the init container of a shard pod that may be a new replica of
// a shard that already holds documents (VectorIndex spec.replicas raised). Without it the pod would
// start on an empty volume and answer queries with nothing. It fills an empty data dir with a ready
// peer's consistent copy, fetched over the peer's HTTP copy transport (POST /v1/snapshot {}, then
// each file, its size and sha256 checked as it streams), and records the copy's seq watermark in
// seeded-from.json: the writes after it are copied later by POST /v1/sync {from, afterSeq} once the
// router writes to the replica (controllers/vector-index/replica-seeding.ts).
//
// Rules: a data dir that holds a database is left alone (a restarted pod keeps its own writes);
// ordinal 0 never seeds (the first replica of a new index has nobody to copy); a pod whose peers all
// fail exits non-zero naming each peer and why, so the kubelet retries it: it never starts empty
// silently. Files go to a work dir on the same volume and are renamed in, the database last: until
// it is there the data dir counts as empty and an interrupted run starts over.
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { syncDir } from "../snapshot/atomic-file.js";
import { ShardCopyResponse } from "../snapshot/create.js";
import { digesting } from "../snapshot/file-digest.js";
import { DATABASE_FILE, placeFile } from "../snapshot/restore.js";
import { createLogger, type Logger } from "../util/log.js";
import { pick, pickInt, UsageError } from "./options.js";

const help = `usage: embedops snapshot seed-replica --data-dir DIR --fingerprint FP
         (--peer-template URL | --peer URL ...) [--ordinal N] [--wait-seconds S]

Fills DIR (one shard replica's empty data dir) with a consistent copy of a ready peer replica of the
same shard, fetched over HTTP with every file's size and sha256 checked, and writes the copy's seq
watermark to DIR/seeded-from.json. DIR already holding a shard database, or ordinal 0, is left as it
is. The peers are the replicas with a lower ordinal: --peer-template URL with {ordinal} in it (e.g.
http://docs-g1-shard-0-{ordinal}.docs-g1-shard-0.ns.svc:8080), or explicit --peer URLs. The ordinal
is --ordinal, else the number ending $HOSTNAME (a StatefulSet pod's name). Peers that do not answer
are retried for --wait-seconds (default 120); then it exits 1. The operator runs this as the init
container of a VectorIndex's shard pods.`;

const options = {
  "data-dir": { type: "string" },
  fingerprint: { type: "string" },
  "peer-template": { type: "string" },
  peer: { type: "string", multiple: true },
  ordinal: { type: "string" },
  "wait-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Work directory inside the data dir (same volume, so the move is a rename); the shard never reads it. */
export const SEED_WORK_DIR = ".seed";
/** Beside the database: which peer and seq watermark the replica was seeded from. */
export const SEEDED_FROM_FILE = "seeded-from.json";

export interface SeededFrom {
  readonly from: string;
  /** The peer's seq the copy covers: the catch-up copies the peer's rows after it. */
  readonly seq: number;
  readonly vectorCount: number;
  readonly seededAt: string;
}

/** What the seed does for a pod, before any I/O but the database check. */
export type SeedPlan =
  | { readonly kind: "keep"; readonly why: string }
  | { readonly kind: "seed"; readonly peers: readonly string[] };

export function seedPlan(input: {
  readonly hasDatabase: boolean;
  readonly ordinal: number;
  readonly peerTemplate?: string;
  readonly peers?: readonly string[];
}): SeedPlan {
  if (input.hasDatabase) return { kind: "keep", why: "the data dir already holds a shard database" };
  if (input.ordinal === 0)
    return { kind: "keep", why: "replica 0 is the first of its shard: it starts empty, nobody to copy" };
  const fromTemplate =
    input.peerTemplate === undefined
      ? []
      : Array.from({ length: input.ordinal }, (_, i) =>
          input.peerTemplate!.replaceAll("{ordinal}", String(i)),
        );
  const peers = [...fromTemplate, ...(input.peers ?? [])].map((u) => u.replace(/\/+$/, ""));
  if (peers.length === 0)
    throw new UsageError(`replica ${input.ordinal} has no peer to seed from: pass --peer-template or --peer`);
  return { kind: "seed", peers };
}

/** The ordinal a StatefulSet pod's name ends in. */
export function ordinalOf(podName: string | undefined): number | undefined {
  const m = podName === undefined ? null : /-(\d+)$/.exec(podName);
  return m ? Number(m[1]) : undefined;
}

export interface SeedReplicaInput {
  readonly dataDir: string;
  readonly fingerprint: string;
  readonly ordinal: number;
  readonly peerTemplate?: string;
  readonly peers?: readonly string[];
  readonly waitMs?: number;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
}

export type SeedReplicaResult =
  | { readonly seeded: false; readonly why: string }
  | ({ readonly seeded: true; readonly bytes: number } & SeededFrom);

const RETRY_MS = 2000;
const COPY_TIMEOUT_MS = 30 * 60_000;

export async function seedReplica(input: SeedReplicaInput): Promise<SeedReplicaResult> {
  const { dataDir, log } = input;
  const plan = seedPlan({
    hasDatabase: existsSync(join(dataDir, DATABASE_FILE)),
    ordinal: input.ordinal,
    ...(input.peerTemplate !== undefined ? { peerTemplate: input.peerTemplate } : {}),
    ...(input.peers ? { peers: input.peers } : {}),
  });
  if (plan.kind === "keep") {
    log.info("seed skipped", { dataDir, ordinal: input.ordinal, why: plan.why });
    return { seeded: false, why: plan.why };
  }
  const deadline = Date.now() + (input.waitMs ?? 120_000);
  for (;;) {
    const errors: string[] = [];
    for (const peer of plan.peers) {
      try {
        return await seedFrom(input, peer);
      } catch (err) {
        errors.push(`${peer}: ${(err as Error).message}`);
      }
    }
    const text = errors.join("; ");
    if (Date.now() >= deadline)
      throw new Error(
        `replica ${input.ordinal} cannot be seeded: no peer gave a copy (${text}); it does not start empty, ` +
          `since its shard may hold documents. Check that replica 0 of the shard is ready and reachable ` +
          `from this pod; the kubelet runs this again`,
      );
    log.warn("seed: no peer gave a copy yet; retrying", { ordinal: input.ordinal, errors: text });
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

async function seedFrom(input: SeedReplicaInput, peer: string): Promise<SeedReplicaResult> {
  const { dataDir, log } = input;
  const doFetch = input.fetch ?? fetch;
  const work = join(dataDir, SEED_WORK_DIR);
  for (const leftover of [work, join(dataDir, "checkpoints"), join(dataDir, SEEDED_FROM_FILE)])
    await rm(leftover, { recursive: true, force: true });
  for (const s of ["-wal", "-shm", "-journal"])
    await rm(join(dataDir, `${DATABASE_FILE}${s}`), { force: true });
  const res = await doFetch(`${peer}/v1/snapshot`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
    signal: AbortSignal.timeout(COPY_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /v1/snapshot answered ${res.status}: ${text.slice(0, 300)}`);
  const copy = ShardCopyResponse.parse(JSON.parse(text));
  if (copy.copy === undefined)
    throw new Error("the peer answered a copy without a copy id: it predates the HTTP copy transport");
  const copyId = copy.copy;
  try {
    if (copy.fingerprint !== input.fingerprint)
      throw new Error(
        `the peer serves model fingerprint ${copy.fingerprint}, this replica is of ${input.fingerprint}: ` +
          `seed only from a replica of the same generation`,
      );
    await mkdir(work, { recursive: true });
    let bytes = 0;
    for (const f of copy.files) {
      const url = `${peer}/v1/snapshot/${copyId}/files/${encodeURIComponent(f.name)}`;
      const file = await doFetch(url, { signal: AbortSignal.timeout(COPY_TIMEOUT_MS) });
      if (!file.ok || file.body === null)
        throw new Error(`GET ${url} answered ${file.status}: ${(await file.text()).slice(0, 300)}`);
      const d = digesting(Readable.fromWeb(file.body as WebReadableStream<Uint8Array>));
      await pipeline(d.stream, createWriteStream(join(work, f.name)));
      const got = d.digest();
      if (got.bytes !== f.bytes || got.sha256 !== f.sha256)
        throw new Error(
          `file ${f.name} arrived with ${got.bytes} bytes and sha256 ${got.sha256}, the peer listed ` +
            `${f.bytes} bytes and sha256 ${f.sha256}: it changed in transit; seeding starts over`,
        );
      bytes += got.bytes;
    }
    await mkdir(join(dataDir, "checkpoints"), { recursive: true });
    const seeded: SeededFrom = {
      from: peer,
      seq: copy.seq,
      vectorCount: copy.vectorCount,
      seededAt: new Date().toISOString(),
    };
    // The watermark first: once the database is in place, the replica counts as seeded. In the file
    // for whoever reads the volume, and in the copy's own meta table, where the operator reads it
    // through the replica's API (GET /v1/meta/seeded-from) to start its catch-up after that seq.
    await writeFile(join(dataDir, SEEDED_FROM_FILE), `${JSON.stringify(seeded)}\n`);
    recordWatermark(join(work, DATABASE_FILE), seeded);
    for (const s of ["-wal", "-shm", "-journal"])
      await rm(join(work, `${DATABASE_FILE}${s}`), { force: true });
    const names = (await readdir(work)).sort(
      (a, b) => Number(a === DATABASE_FILE) - Number(b === DATABASE_FILE),
    );
    for (const name of names) await rename(join(work, name), join(dataDir, placeFile(name)));
    await syncDir(join(dataDir, "checkpoints"));
    await syncDir(dataDir);
    await rm(work, { recursive: true, force: true });
    log.info("replica seeded from a peer", { ...seeded, ordinal: input.ordinal, dataDir, bytes });
    return { seeded: true, bytes, ...seeded };
  } finally {
    await doFetch(`${peer}/v1/snapshot/${copyId}`, { method: "DELETE", signal: AbortSignal.timeout(30_000) })
      .then((r) => r.arrayBuffer())
      .catch((err: unknown) =>
        log.warn("seed: copy left on the peer (it removes it after an hour)", {
          peer,
          copy: copyId,
          err: (err as Error).message,
        }),
      );
  }
}

/** The shard meta key (GET /v1/meta/:key) that holds the seed's watermark. */
export const SEEDED_FROM_META_KEY = "seeded-from";

/** Writes `seeded` under the shard's user meta key (store.ts keeps PUT /v1/meta values as `user:<key>`). */
function recordWatermark(dbPath: string, seeded: SeededFrom): void {
  const db = new Database(dbPath);
  try {
    db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(`user:${SEEDED_FROM_META_KEY}`, JSON.stringify(seeded));
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const need = (flag: keyof typeof options): string => {
    const v = pick(values, flag);
    if (v === undefined) throw new UsageError(`snapshot seed-replica needs --${flag}\n\n${help}`);
    return v;
  };
  const dataDir = resolve(need("data-dir"));
  const fingerprint = need("fingerprint");
  const ordinal =
    values.ordinal !== undefined ? pickInt(values, "ordinal", 0, 0, 10_000) : ordinalOf(process.env.HOSTNAME);
  if (ordinal === undefined)
    throw new UsageError(
      `snapshot seed-replica needs --ordinal N, or $HOSTNAME ending in -N (a StatefulSet pod's name)`,
    );
  const peerTemplate = pick(values, "peer-template");
  if (peerTemplate !== undefined && !peerTemplate.includes("{ordinal}"))
    throw new UsageError(`--peer-template ${peerTemplate} has no {ordinal} in it`);
  const log = createLogger({ role: "seed-replica", ordinal });
  const result = await seedReplica({
    dataDir,
    fingerprint,
    ordinal,
    ...(peerTemplate !== undefined ? { peerTemplate } : {}),
    peers: values.peer ?? [],
    waitMs: pickInt(values, "wait-seconds", 120, 0, 86_400) * 1000,
    log,
  });
  process.stdout.write(
    result.seeded
      ? `seeded replica ${ordinal} into ${dataDir} from ${result.from} at seq ${result.seq}: ` +
          `${result.vectorCount} vectors, ${result.bytes} bytes, every file's sha256 checked\n`
      : `${dataDir}: nothing seeded (${result.why})\n`,
  );
}
