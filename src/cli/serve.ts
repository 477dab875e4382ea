// `embedops serve -f FILE.yaml`: the data plane for the resources in FILE on this machine, as child
// processes on 127.0.0.1 — encoder(s), shards (shards × replicas) and a router per index.
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatResourceError, parseResources } from "../api/v1alpha1/index.js";
import { generationName } from "../core/generation.js";
import { ChildStartError, SupervisedChild } from "../local/child-process.js";
import { getJson, waitReady } from "../local/http-wait.js";
import { type LocalIndex, type LocalModel, planLocal, routerConfig, shardDataDir } from "../local/plan.js";
import {
  defaultDataDir,
  readServeState,
  type ServeState,
  serveStatePath,
  writeServeState,
} from "../local/serve-state.js";
import { createLogger, type Logger } from "../util/log.js";
import { pidAlive } from "../util/pid-alive.js";
import { pickString, UsageError } from "./options.js";

const help = `usage: embedops serve -f FILE.yaml [--data-dir ${defaultDataDir}]

Runs the EmbeddingModels and VectorIndexes in FILE on this machine: an encoder per model, the
shards (shards × replicas) and a router per index, as child processes on 127.0.0.1. Data and logs
stay in --data-dir. Ctrl-C (SIGINT) or SIGTERM stops everything.`;

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

  private child(name: string, args: string[]): SupervisedChild {
    const c = new SupervisedChild(
      { name, args, logFile: join(this.dataDir, "logs", `${name}.log`) },
      this.log,
    );
    this.children.push(c);
    return c;
  }

  async startEncoder(m: LocalModel): Promise<{ url: string; info: EncoderInfo }> {
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
    const url = await this.child(`encoder-${m.name}`, [
      "encoder",
      "--model-dir",
      m.modelDir,
      ...m.encoderArgs,
    ]).start();
    await waitReady(url, `encoder for EmbeddingModel "${m.name}"`);
    const info = await getJson<EncoderInfo>(`${url}/info`, `encoder for EmbeddingModel "${m.name}"`);
    if (info.dimension !== m.dimension) {
      throw new Error(
        `EmbeddingModel "${m.name}": spec.dimension is ${m.dimension} but the model in ${m.modelDir} produces ${info.dimension}-d vectors`,
      );
    }
    return { url, info };
  }

  async startIndex(
    index: LocalIndex,
    encoder: { url: string; info: EncoderInfo },
  ): Promise<{ router: string; shards: string[][]; generation: string }> {
    const generation = generationName(encoder.info.fingerprint);
    this.warnAboutOtherGenerations(index.name, generation);
    const shardUrls = await Promise.all(
      index.shards.map((shard) =>
        Promise.all(
          Array.from({ length: index.replicas }, async (_, r) => {
            const dir = shardDataDir(this.dataDir, index.name, generation, shard, r);
            mkdirSync(dir, { recursive: true });
            const url = await this.child(`${index.name}-${shard}-r${r}`, [
              "shard",
              "--data-dir",
              dir,
              "--fingerprint",
              encoder.info.fingerprint,
              "--shard-id",
              `${index.name}/${generation}/${shard}`,
              ...index.shardArgs,
            ]).start();
            await waitReady(url, `shard ${shard} replica ${r} of VectorIndex "${index.name}"`);
            return url;
          }),
        ),
      ),
    );
    const configPath = join(this.dataDir, "indexes", index.name, "router.json");
    const config = routerConfig(index, generation, encoder.info.fingerprint, encoder.url, shardUrls);
    writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
    const router = await this.child(`${index.name}-router`, ["router", "--config", configPath]).start();
    await waitReady(router, `router of VectorIndex "${index.name}"`);
    return { router, shards: shardUrls, generation };
  }

  // Data built with another model stays on disk untouched, but it is not served: say so, so nobody
  // wonders where their documents went after changing the model.
  private warnAboutOtherGenerations(index: string, generation: string): void {
    const dir = join(this.dataDir, "indexes", index);
    if (!existsSync(dir)) return;
    const others = readdirNames(dir).filter((d) => d.startsWith("g-") && d !== generation);
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
    for (const rank of [0, 1, 2])
      await Promise.all(this.children.filter((c) => order(c) === rank).map((c) => c.stop()));
  }
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

  const parsed = parseResources(readFileSync(file, "utf8"), { allowOtherKinds: true });
  if (!parsed.ok)
    throw new UsageError(
      `${values.file} is not valid:\n${parsed.errors.map((e) => `  ${formatResourceError(e)}`).join("\n")}`,
    );
  const planned = planLocal(parsed.value.resources, process.cwd());
  if (!planned.ok)
    throw new UsageError(
      `${values.file} cannot be served:\n${planned.errors.map((e) => `  ${e}`).join("\n")}`,
    );
  const { plan } = planned;

  const previous = readServeState(dataDir);
  if (previous && previous.pid !== process.pid && pidAlive(previous.pid)) {
    throw new UsageError(
      `another "embedops serve" (pid ${previous.pid}) is using ${dataDir}; stop it or pass another --data-dir`,
    );
  }
  mkdirSync(join(dataDir, "logs"), { recursive: true });
  for (const i of plan.indexes) mkdirSync(join(dataDir, "indexes", i.name), { recursive: true });

  const plane = new LocalDataPlane(dataDir, log);
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping");
    await plane.stop();
    // Only our own: a serve that failed to start must not hide a running one from ingest and query.
    if (readServeState(dataDir)?.pid === process.pid) rmSync(serveStatePath(dataDir), { force: true });
    log.info("stopped");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    const state: ServeState = { pid: process.pid, file, models: {}, indexes: {} };
    const encoders = new Map<string, { url: string; info: EncoderInfo }>();
    for (const m of plan.models) {
      const enc = await plane.startEncoder(m);
      encoders.set(m.name, enc);
      state.models[m.name] = { url: enc.url, fingerprint: enc.info.fingerprint };
    }
    const lines: string[] = [];
    for (const i of plan.indexes) {
      const enc = encoders.get(i.model)!;
      const started = await plane.startIndex(i, enc);
      state.indexes[i.name] = { router: started.router, model: i.model, shards: started.shards };
      lines.push(
        `  index  ${i.name.padEnd(12)} ${started.router}  generation ${started.generation}, ${i.shards.length} shard(s) × ${i.replicas} replica(s), ${i.metric}`,
      );
    }
    writeServeState(dataDir, state);
    const modelLines = Object.entries(state.models).map(
      ([name, m]) => `  model  ${name.padEnd(12)} ${m.url}  fingerprint ${m.fingerprint.slice(0, 12)}`,
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
        `  logs:  ${join(dataDir, "logs")}/   stop: Ctrl-C`,
        "",
      ].join("\n"),
    );
  } catch (err) {
    // A child's refusal already says what is wrong and how to fix it; its stack would only bury that.
    log.error("serve failed to start", { err: err instanceof ChildStartError ? err.message : err });
    await stop(1);
  }
}
