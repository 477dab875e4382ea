// `embedops serve -f FILE.yaml`: the data plane for the resources in FILE on this machine, as child
// processes on 127.0.0.1 — encoder(s), shards (shards × replicas) and a router per index.

import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, watch } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatResourceError, parseResources } from "../api/v1alpha1/index.js";
import { generationName } from "../core/generation.js";
import type { GenerationRef } from "../generation/generation-rollout.js";
import { startBackfillChild } from "../local/backfill-child.js";
import { ChildStartError, SupervisedChild } from "../local/child-process.js";
import { GenerationDriver, indexHandOff } from "../local/generation-driver.js";
import {
  backfillPlanPath,
  generationCommandPath,
  readGenerationFile,
  writeGenerationFile,
} from "../local/generation-file.js";
import { encoderFor, generationRouterConfig, type ModelView } from "../local/generation-routing.js";
import { getJson, waitReady } from "../local/http-wait.js";
import { runLocalGate } from "../local/local-gate.js";
import { type LocalIndex, type LocalModel, type LocalPlan, planLocal, shardDataDir } from "../local/plan.js";
import { type ReplicaAction, replicasToSeedAtStart } from "../local/replica-plan.js";
import { hasData, markerPath, ReplicaSeeder } from "../local/replica-seeder.js";
import { checkRestoredQuality, restoreAtStart } from "../local/restore-at-start.js";
import {
  type EncoderHandle,
  initialRolloutFile,
  RolloutDriver,
  readRolloutFile,
  rolloutCommandPath,
  writeRolloutFile,
} from "../local/rollout-driver.js";
import { createServeMetrics, startServeMetrics } from "../local/serve-metrics.js";
import {
  defaultDataDir,
  readServeState,
  type ServeState,
  serveStatePath,
  writeServeState,
} from "../local/serve-state.js";
import { openServeStore, SnapshotScheduler, serveSnapshotIo } from "../local/snapshot-scheduler.js";
import { parsePrometheusText, type Sample } from "../rollout/prometheus-text.js";
import { createLogger, type Logger } from "../util/log.js";
import { pidAlive } from "../util/pid-alive.js";
import { replaceJsonFile } from "../util/replace-file.js";
import { pickString, UsageError } from "./options.js";

const help = `usage: embedops serve -f FILE.yaml [--data-dir ${defaultDataDir}]

Runs the EmbeddingModels and VectorIndexes in FILE on this machine: an encoder per model, the
shards (shards × replicas) and a router per index, as child processes on 127.0.0.1. Data and logs
stay in --data-dir. Ctrl-C (SIGINT) or SIGTERM stops everything.

FILE is reloaded when it changes (and on SIGHUP); an invalid file is reported and ignored. A changed
EmbeddingModel runtime (threads, batching limits) is rolled out as a canary beside the stable
encoder, checked against spec.rollout.slo, and promoted or rolled back: see "embedops rollout".
A raised VectorIndex spec.replicas seeds each new replica from a serving one before the router
queries it (serve.json lists them under "seeding"); a lowered one stops the extra replicas.`;

/** Test-only hooks (dataplane tests put a Toxiproxy between the router and a candidate encoder). */
const TEST_CANARY_PORT_ENV = "EMBEDOPS_TEST_CANARY_PORT";
const TEST_CANARY_ROUTED_URL_ENV = "EMBEDOPS_TEST_CANARY_ROUTED_URL";

interface EncoderInfo {
  fingerprint: string;
  dimension: number;
  name?: string;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

class LocalDataPlane {
  private readonly children: SupervisedChild[] = [];
  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  private child(name: string, args: string[], port?: number): SupervisedChild {
    const c = new SupervisedChild(
      { name, args, logFile: join(this.dataDir, "logs", `${name}.log`), ...(port ? { port } : {}) },
      this.log,
    );
    this.children.push(c);
    return c;
  }

  /** Stops one child and forgets it. */
  async stopChild(name: string): Promise<void> {
    const i = this.children.findIndex((c) => c.spec.name === name);
    if (i < 0) return;
    const [c] = this.children.splice(i, 1);
    await c?.stop();
  }

  /**
   * One encoder revision of a model: `--revision` labels its metrics, so the router's and its own
   * series tell stable and candidate apart. The log file is per revision.
   */
  async startEncoderRevision(
    m: LocalModel,
    revision: string,
    args: readonly string[],
    role: "stable" | "candidate",
  ): Promise<EncoderHandle> {
    const port = role === "candidate" ? Number(process.env[TEST_CANARY_PORT_ENV] ?? 0) : 0;
    const name = encoderChildName(m.name, revision);
    let url: string;
    try {
      url = await this.child(
        name,
        ["encoder", ...withModelDir(args, m.modelDir), "--revision", revision],
        port,
      ).start();
      await waitReady(url, `encoder ${revision} of EmbeddingModel "${m.name}"`);
    } catch (err) {
      await this.stopChild(name);
      throw err;
    }
    // A cold ONNX session runs its first batches slowly; a candidate's first real requests must not
    // pay for that and count it against its p99.
    if (role === "candidate") await warmUp(url);
    const routed = role === "candidate" ? process.env[TEST_CANARY_ROUTED_URL_ENV] : undefined;
    return { revision, url, routedUrl: routed ?? url };
  }

  async checkModel(m: LocalModel, url: string): Promise<EncoderInfo> {
    const info = await getJson<EncoderInfo>(`${url}/info`, `encoder for EmbeddingModel "${m.name}"`);
    if (info.dimension !== m.dimension) {
      throw new Error(
        `EmbeddingModel "${m.name}": spec.dimension is ${m.dimension} but the model in ${m.modelDir} produces ${info.dimension}-d vectors`,
      );
    }
    return info;
  }

  async verifyModelFiles(m: LocalModel): Promise<void> {
    if (!existsSync(join(m.modelDir, "model.onnx"))) {
      throw new Error(
        `EmbeddingModel "${m.name}": no model.onnx in ${m.modelDir}; run "npm run setup:models" to fetch the bundled models`,
      );
    }
    if (m.sha256) {
      const actual = await sha256File(join(m.modelDir, "model.onnx"));
      if (actual !== m.sha256) {
        throw new Error(
          `EmbeddingModel "${m.name}": ${m.modelDir}/model.onnx has sha256 ${actual}, the spec pins ${m.sha256}`,
        );
      }
    }
  }

  private readonly shardChildren = new Map<string, string[]>();
  /** URL of each running shard replica, by child name. */
  private readonly replicaUrls = new Map<string, string>();

  /**
   * One generation's shards (shards × replicas), each ready; URLs per shard in the index's order.
   * `skip`: replicas not to start (replica seeding starts them once they hold their peer's data).
   */
  async startShards(
    index: LocalIndex,
    ref: GenerationRef,
    skip: (shard: string, replica: number) => boolean = () => false,
  ): Promise<string[][]> {
    this.shardChildren.set(`${index.name}/${ref.generation}`, []);
    return Promise.all(
      index.shards.map(async (shard) => {
        const wanted = Array.from({ length: index.replicas }, (_, r) => r).filter((r) => !skip(shard, r));
        return Promise.all(wanted.map((r) => this.startReplica(index, ref, shard, r)));
      }),
    );
  }

  /** One shard replica on its data dir, ready. */
  async startReplica(index: LocalIndex, ref: GenerationRef, shard: string, r: number): Promise<string> {
    const dir = shardDataDir(this.dataDir, index.name, ref.generation, shard, r);
    mkdirSync(dir, { recursive: true });
    const name = replicaChildName(index.name, ref.generation, shard, r);
    const key = `${index.name}/${ref.generation}`;
    const names = this.shardChildren.get(key) ?? [];
    this.shardChildren.set(key, names);
    if (!names.includes(name)) names.push(name);
    const url = await this.child(name, [
      "shard",
      "--data-dir",
      dir,
      "--fingerprint",
      ref.fingerprint,
      "--shard-id",
      `${index.name}/${ref.generation}/${shard}`,
      ...index.shardArgs,
    ]).start();
    await waitReady(url, `shard ${shard} replica ${r} of VectorIndex "${index.name}" (${ref.generation})`);
    this.replicaUrls.set(name, url);
    return url;
  }

  /** The replicas of one shard whose processes run. */
  runningReplicas(index: string, generation: string, shard: string): { replica: number; url: string }[] {
    const prefix = replicaChildName(index, generation, shard, 0).replace(/0$/, "");
    return [...this.replicaUrls].flatMap(([name, url]) =>
      name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))
        ? [{ replica: Number(name.slice(prefix.length)), url }]
        : [],
    );
  }

  async stopReplica(index: string, generation: string, shard: string, r: number): Promise<void> {
    const name = replicaChildName(index, generation, shard, r);
    const names = this.shardChildren.get(`${index}/${generation}`);
    names?.splice(names.indexOf(name) >>> 0, names.includes(name) ? 1 : 0);
    this.replicaUrls.delete(name);
    await this.stopChild(name);
  }

  async stopShards(index: string, generation: string): Promise<void> {
    const key = `${index}/${generation}`;
    const names = this.shardChildren.get(key) ?? [];
    this.shardChildren.delete(key);
    for (const n of names) this.replicaUrls.delete(n);
    await Promise.all(names.map((n) => this.stopChild(n)));
  }

  /** A generation's data directories, once its shards stopped (a failed N+1, a retained N past its time). */
  removeGenerationData(index: string, generation: string): void {
    if (!generation.startsWith("g-")) return;
    rmSync(join(this.dataDir, "indexes", index, generation), { recursive: true, force: true });
  }

  async startIndex(
    index: LocalIndex,
    active: GenerationRef,
    view: ModelView,
    skip?: (shard: string, replica: number) => boolean,
  ): Promise<{ router: string; shards: string[][]; configPath: string }> {
    this.warnAboutOtherGenerations(index.name, active.generation);
    const shardUrls = await this.startShards(index, active, skip);
    const configPath = join(this.dataDir, "indexes", index.name, "router.json");
    const config = generationRouterConfig(index, {
      ref: active,
      shards: shardUrls,
      encoder: encoderFor(active.fingerprint, view) ?? null,
    });
    writeRouterConfig(configPath, config);
    const router = await this.child(`${index.name}-router`, ["router", "--config", configPath]).start();
    await waitReady(router, `router of VectorIndex "${index.name}"`);
    return { router, shards: shardUrls, configPath };
  }

  // Data built with another model stays on disk untouched, but it is not served: say so, so nobody
  // wonders where their documents went after changing the model.
  private warnAboutOtherGenerations(index: string, generation: string): void {
    const dir = join(this.dataDir, "indexes", index);
    if (!existsSync(dir)) return;
    const known = readGenerationFile(this.dataDir, index);
    const ours = new Set([generation, known?.retained?.ref.generation, known?.status?.candidateGeneration]);
    const others = readdirNames(dir).filter((d) => d.startsWith("g-") && !ours.has(d));
    if (others.length > 0) {
      this.log.warn("index has data from another model; serving a new, empty generation", {
        index,
        generation,
        otherGenerations: others,
        hint: "re-ingest the documents, or switch the model back",
      });
    }
  }

  async stop(): Promise<void> {
    // Routers first (stop taking requests), then shards (they checkpoint), then encoders.
    const order = (c: SupervisedChild) =>
      c.spec.name.endsWith("-router") ? 0 : c.spec.name.startsWith("encoder-") ? 2 : 1;
    // ^ encoders are stopped last, after the rollout drivers stopped ticking (see run()).
    for (const rank of [0, 1, 2])
      await Promise.all(this.children.filter((c) => order(c) === rank).map((c) => c.stop()));
  }
}

async function warmUp(url: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await fetch(`${url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ input: ["warm-up text for a new encoder revision"] }),
      signal: AbortSignal.timeout(10_000),
    }).then(
      (r) => r.arrayBuffer(),
      () => undefined,
    );
  }
}

/** Samples of GET url/metrics, or undefined when it cannot be read (what both drivers' checks read). */
async function scrapeMetrics(url: string): Promise<Sample[] | undefined> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? parsePrometheusText(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

const encoderChildName = (model: string, revision: string) => `encoder-${model}-${revision}`;
const replicaChildName = (index: string, generation: string, shard: string, r: number) =>
  `${index}-${generation}-${shard}-r${r}`;

/**
 * Replicas of the active generation that start only once seeded: new ones (empty beside a peer with
 * data) and those whose seeding was cut short. Blocked ones are said and left out too.
 */
function seedAtStart(dataDir: string, index: LocalIndex, generation: string, log: Logger): ReplicaAction[] {
  const observed = index.shards.map((shard) => ({
    shard,
    replicas: Array.from({ length: index.replicas }, (_, r) => {
      const dir = shardDataDir(dataDir, index.name, generation, shard, r);
      return {
        replica: r,
        running: false,
        serving: false,
        hasData: hasData(dir),
        marked: existsSync(markerPath(dir)),
      };
    }),
  }));
  const actions = replicasToSeedAtStart(observed, index.replicas);
  for (const a of actions)
    if (a.kind === "blocked") log.error("replica cannot be seeded", { index: index.name, why: a.why });
  return actions;
}

/** Written whole and renamed, so the router's reload never reads half a file. */
function writeRouterConfig(path: string, config: Record<string, unknown>): void {
  replaceJsonFile(path, config);
}

/** The source index of a restore, when this serve serves it with the same model: the recall check compares with it. */
function servedSource(state: ServeState, index: string, fingerprint: string) {
  const served = state.indexes[index];
  const model = served ? state.models[served.model] : undefined;
  if (!served || !model || model.fingerprint !== fingerprint) return undefined;
  return {
    ref: { generation: generationName(fingerprint), fingerprint },
    encoderUrl: model.url,
    shards: served.shards,
  };
}

function readdirNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      file: { type: "string", short: "f" },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${help}\n`);
    return;
  }
  if (!values.file) throw new UsageError(`-f FILE.yaml is required\n\n${help}`);
  const file = resolve(values.file);
  if (!existsSync(file)) throw new UsageError(`file not found: ${values.file}`);
  const dataDir = resolve(pickString(values, "data-dir", defaultDataDir));
  const log = createLogger({ component: "serve" });

  const loaded = loadPlan(file);
  if (!loaded.ok) throw new UsageError(`${values.file} ${loaded.error}`);
  const { plan } = loaded;

  const previous = readServeState(dataDir);
  if (previous && previous.pid !== process.pid && pidAlive(previous.pid)) {
    throw new UsageError(
      `another "embedops serve" (pid ${previous.pid}) is using ${dataDir}; stop it or pass another --data-dir`,
    );
  }
  mkdirSync(join(dataDir, "logs"), { recursive: true });
  for (const i of plan.indexes) mkdirSync(join(dataDir, "indexes", i.name), { recursive: true });

  const plane = new LocalDataPlane(dataDir, log);
  const drivers = new Map<string, RolloutDriver>();
  // Each index's generations (and its router config) are driven by its GenerationDriver.
  const generations = new Map<string, { model: string; driver: GenerationDriver }>();
  const seeders = new Map<string, ReplicaSeeder>();
  let stopping = false;
  let unwatch: (() => void) | undefined;
  let closeMetrics: (() => void) | undefined;
  let snapshots: SnapshotScheduler | undefined;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping");
    unwatch?.();
    await snapshots?.stop(); // a running snapshot finishes while its shards still run
    // Drivers first: no rollout step may start or stop an encoder or a shard while the data plane goes down.
    await Promise.all([...seeders.values()].map((s) => s.stop()));
    await Promise.all([...generations.values()].map((g) => g.driver.stop()));
    await Promise.all([...drivers.values()].map((d) => d.stop()));
    await plane.stop();
    closeMetrics?.();
    // Only our own: a serve that failed to start must not hide a running one from ingest and query.
    if (readServeState(dataDir)?.pid === process.pid) rmSync(serveStatePath(dataDir), { force: true });
    log.info("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    const metrics = createServeMetrics();
    const metricsServer = await startServeMetrics(metrics);
    closeMetrics = () => metricsServer.server.close();
    const state: ServeState = { pid: process.pid, file, metrics: metricsServer.url, models: {}, indexes: {} };
    const infos = new Map<string, EncoderInfo>();
    const indexDrivers = (model: string) =>
      [...generations.entries()]
        .filter(([, g]) => g.model === model)
        .map(([name, g]) => ({ name, driver: g.driver }));
    const human = (line: string) => process.stdout.write(`${line}\n`);
    for (const m of plan.models) {
      await plane.verifyModelFiles(m);
      const persisted = readRolloutFile(dataDir, m.name);
      const file0 = persisted ?? initialRolloutFile(m.name, m.revision, m.encoderArgs);
      const driver = new RolloutDriver(
        m.name,
        specOf(m),
        file0,
        {
          now: () => Date.now(),
          startEncoder: (revision, args, role) => plane.startEncoderRevision(m, revision, args, role),
          stopEncoder: (h) => plane.stopChild(encoderChildName(m.name, h.revision)),
          fingerprint: async (url) => {
            try {
              return (await getJson<EncoderInfo>(`${url}/info`, "encoder")).fingerprint;
            } catch {
              return undefined;
            }
          },
          scrape: scrapeMetrics,
          routers: () =>
            Object.values(state.indexes)
              .filter((i) => i.model === m.name)
              .map((i) => i.router),
          route: async (encoder) => {
            for (const g of indexDrivers(m.name)) g.driver.refresh();
            const stable = state.models[m.name];
            if (stable && stable.url !== encoder.url) {
              state.models[m.name] = { ...stable, url: encoder.url };
              writeServeState(dataDir, state);
            }
          },
          probe: async (url, texts) => {
            await fetch(`${url}/v1/embeddings`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ input: texts }),
              signal: AbortSignal.timeout(10_000),
            });
          },
          readCommand: () => {
            const path = rolloutCommandPath(dataDir, m.name);
            return existsSync(path) ? readFileSync(path, "utf8") : undefined;
          },
          save: (f) => writeRolloutFile(dataDir, f),
          say: human,
          ended: (result, reason) => metrics.rolloutsTotal.inc({ model: m.name, result, reason }),
          indexes: (held) => indexHandOff(indexDrivers(m.name), held),
        },
        log.child({ model: m.name }),
      );
      drivers.set(m.name, driver);
      const stable = await driver.startStable();
      const info = await plane.checkModel(m, stable.url);
      infos.set(m.name, info);
      writeRolloutFile(dataDir, driver.state);
      state.models[m.name] = { url: stable.url, fingerprint: info.fingerprint };
    }
    const lines: string[] = [];
    for (const i of plan.indexes) {
      const driver = drivers.get(i.model)!;
      const info = infos.get(i.model)!;
      const persisted = readGenerationFile(dataDir, i.name);
      const active = persisted?.active ?? {
        generation: generationName(info.fingerprint),
        fingerprint: info.fingerprint,
      };
      const restoreIo = {
        dataDir,
        log: log.child({ index: i.name }),
        now: () => new Date(),
        openStore: (owner: string, store: NonNullable<LocalIndex["snapshot"]>["store"]) =>
          openServeStore(dataDir, owner, store),
      };
      let restored = await restoreAtStart(i, plan.indexes, active, restoreIo);
      const toSeed = seedAtStart(dataDir, i, active.generation, log);
      const started = await plane.startIndex(i, active, driver.view(), (shard, r) =>
        toSeed.some((a) => a.shard === shard && a.replica === r),
      );
      if (restored && restored.quality === undefined && i.quality)
        restored = await checkRestoredQuality(
          i,
          restored,
          { ref: active, shards: started.shards, encoderUrl: state.models[i.model]!.url },
          servedSource(state, restored.sourceIndex, active.fingerprint),
          restoreIo,
        );
      const genDriver = new GenerationDriver(
        i,
        persisted ?? { index: i.name, active },
        {
          now: () => Date.now(),
          model: () => driver.view(),
          startShards: (ref) => plane.startShards(currentIndex(i.name) ?? i, ref),
          stopShards: (generation) => plane.stopShards(i.name, generation),
          removeData: (generation) => {
            plane.removeGenerationData(i.name, generation);
            rmSync(backfillPlanPath(dataDir, i.name, generation), { force: true });
          },
          writeRouterConfig: (config) => writeRouterConfig(started.configPath, config),
          routerUrl: () => started.router,
          getJson: async (url) => {
            try {
              const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
              return res.ok ? ((await res.json()) as unknown) : undefined;
            } catch {
              return undefined;
            }
          },
          scrape: scrapeMetrics,
          startBackfill: (plan, generation) => {
            const planFile = backfillPlanPath(dataDir, i.name, generation);
            replaceJsonFile(planFile, plan);
            return startBackfillChild(
              planFile,
              join(dataDir, "logs", `${i.name}-${generation}-backfill.log`),
            );
          },
          runGate: (candidate, current) => runLocalGate(currentIndex(i.name) ?? i, candidate, current),
          query: async (text) => {
            await fetch(`${started.router}/v1/query`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ text, k: 10 }),
              signal: AbortSignal.timeout(10_000),
            }).then((r) => r.arrayBuffer());
          },
          readCommand: () => {
            const path = generationCommandPath(dataDir, i.name);
            return existsSync(path) ? readFileSync(path, "utf8") : undefined;
          },
          save: (f) => writeGenerationFile(dataDir, f),
          say: human,
        },
        log.child({ index: i.name }),
      );
      genDriver.adoptActive(started.shards);
      const seeder = new ReplicaSeeder(
        i,
        {
          active: () => ({ ref: genDriver.state.active, moving: genDriver.moving }),
          replicaDir: (generation, shard, r) => shardDataDir(dataDir, i.name, generation, shard, r),
          running: (generation, shard) => plane.runningReplicas(i.name, generation, shard),
          startReplica: (ref, shard, r) => plane.startReplica(currentIndex(i.name) ?? i, ref, shard, r),
          stopReplica: (generation, shard, r) => plane.stopReplica(i.name, generation, shard, r),
          setReplicas: (generation, serving, syncing) => {
            genDriver.setReplicas(generation, serving, syncing);
            const entry = state.indexes[i.name];
            if (entry && generation === genDriver.state.active.generation) {
              entry.shards = serving;
              writeServeState(dataDir, state);
            }
          },
          routerUrl: () => started.router,
          report: (statuses) => {
            metrics.replicasSeeding.set(
              { index: i.name },
              statuses.filter((s) => s.phase !== "failed").length,
            );
            const entry = state.indexes[i.name];
            if (!entry) return;
            if (statuses.length > 0) entry.seeding = statuses;
            else delete entry.seeding;
            writeServeState(dataDir, state);
          },
          say: human,
        },
        log.child({ index: i.name }),
      );
      seeders.set(i.name, seeder);
      writeGenerationFile(dataDir, genDriver.state);
      generations.set(i.name, { model: i.model, driver: genDriver });
      state.indexes[i.name] = {
        router: started.router,
        model: i.model,
        shards: started.shards,
        ...(restored
          ? {
              restoredFrom: {
                snapshot: restored.snapshot,
                location: restored.location,
                documents: restored.documents,
              },
            }
          : {}),
      };
      lines.push(
        `  index  ${i.name.padEnd(12)} ${started.router}  generation ${active.generation}, ${i.shards.length} shard(s) × ${i.replicas} replica(s), ${i.metric}`,
      );
      if (restored)
        lines.push(
          `         restored from snapshot ${restored.snapshot} of ${restored.sourceIndex} (${restored.documents} documents)` +
            (restored.quality
              ? `; golden-set recall ${restored.quality.pass ? "passed" : "FAILED"}: ${restored.quality.message}`
              : ""),
        );
    }
    writeServeState(dataDir, state);
    const modelLines = Object.entries(state.models).map(
      ([name, m]) =>
        `  model  ${name.padEnd(12)} ${m.url}  fingerprint ${m.fingerprint.slice(0, 12)}, revision ${drivers.get(name)?.state.stableRevision}`,
    );
    process.stdout.write(
      [
        "",
        `embedops serve: ${values.file} is ready`,
        ...modelLines,
        ...lines,
        "",
        "  try:   npx embedops ingest examples/docs.jsonl",
        '         npx embedops query "how do plants make food from sunlight"',
        `  logs:  ${join(dataDir, "logs")}/   stop: Ctrl-C   reload: edit ${values.file} (or SIGHUP)`,
        "",
      ].join("\n"),
    );
    for (const d of drivers.values()) d.start();
    for (const g of generations.values()) g.driver.start();
    for (const s of seeders.values()) s.start();

    let served = plan;
    function currentIndex(name: string): LocalIndex | undefined {
      return served.indexes.find((x) => x.name === name);
    }
    snapshots = new SnapshotScheduler(
      serveSnapshotIo(dataDir, () => served.indexes, human, metrics),
      log,
    );
    snapshots.start();
    const reload = (why: string) => {
      if (stopping) return;
      const next = loadPlan(file);
      if (!next.ok) {
        log.error("reload: the file is not valid; still serving the previous one", {
          file,
          why,
          error: `${values.file} ${next.error}`,
        });
        human(`embedops serve: ${values.file} ${next.error}\n  (still serving the previous version)`);
        return;
      }
      const unapplied = unappliedChanges(served, next.plan);
      if (unapplied.length > 0) {
        log.warn("reload: some changes need a restart of embedops serve", { file, changes: unapplied });
      }
      for (const m of next.plan.models) drivers.get(m.name)?.update(specOf(m));
      for (const i of next.plan.indexes) generations.get(i.name)?.driver.update(i);
      for (const i of next.plan.indexes) seeders.get(i.name)?.update(i);
      log.info("reloaded", {
        file,
        why,
        models: next.plan.models.map((m) => ({ name: m.name, revision: m.revision })),
      });
      served = next.plan;
    };
    unwatch = watchFile(file, () => reload("file changed"));
    process.on("SIGHUP", () => reload("SIGHUP"));
  } catch (err) {
    // A child's refusal already says what is wrong and how to fix it; its stack would only bury that.
    log.error("serve failed to start", { err: err instanceof ChildStartError ? err.message : err });
    await stop(1);
  }
}

type Loaded = { ok: true; plan: LocalPlan } | { ok: false; error: string };

/** Parses and plans FILE; `error` starts with "is not valid:" or "cannot be served:". */
function loadPlan(file: string): Loaded {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return { ok: false, error: `cannot be read: ${(err as Error).message}` };
  }
  const parsed = parseResources(text, { allowOtherKinds: true });
  if (!parsed.ok)
    return {
      ok: false,
      error: `is not valid:\n${parsed.errors.map((e) => `  ${formatResourceError(e)}`).join("\n")}`,
    };
  const planned = planLocal(parsed.value.resources, process.cwd(), parsed.value.others);
  if (!planned.ok)
    return { ok: false, error: `cannot be served:\n${planned.errors.map((e) => `  ${e}`).join("\n")}` };
  return { ok: true, plan: planned.plan };
}

const specOf = (m: LocalModel) => ({
  revision: m.revision,
  args: m.encoderArgs,
  policy: m.rollout,
  replicas: 1,
});

/**
 * A revision's encoder flags name its model directory, so a candidate with a new source runs the
 * new model beside the stable's. Rollout files written before that (flags without --model-dir)
 * get the model's current directory, as they always did.
 */
export function withModelDir(args: readonly string[], modelDir: string): string[] {
  return args.includes("--model-dir") ? [...args] : ["--model-dir", modelDir, ...args];
}

/**
 * What a reload does not apply live (EmbeddingModel revisions, rollout policies and a VectorIndex's
 * replicas are).
 */
export function unappliedChanges(before: LocalPlan, after: LocalPlan): string[] {
  const out: string[] = [];
  const names = (xs: readonly { name: string }[]) =>
    xs
      .map((x) => x.name)
      .sort()
      .join(",");
  if (names(before.models) !== names(after.models)) out.push("EmbeddingModels added or removed");
  for (const m of after.models) {
    const old = before.models.find((o) => o.name === m.name);
    // A new source is a new revision, rolled out (or held at NewGenerationRequired) like any other.
    if (old && old.dimension !== m.dimension)
      out.push(`EmbeddingModel "${m.name}": dimension (a new index generation)`);
  }
  const beyondReplicas = (xs: readonly LocalIndex[]) =>
    JSON.stringify(xs.map((x) => ({ ...x, replicas: 0 })));
  if (beyondReplicas(before.indexes) !== beyondReplicas(after.indexes)) out.push("VectorIndex changes");
  return out;
}

/**
 * Calls `onChange` once the file settled after a change. Watches the directory, not the file: editors
 * save by writing a new file and renaming it over the old one, which a watch on the file loses.
 */
function watchFile(file: string, onChange: () => void, debounceMs = 300): () => void {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(file);
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
