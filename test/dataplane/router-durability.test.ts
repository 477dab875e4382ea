// kill -9 of shard replicas while documents stream in through the router: after 20 cycles, every
// document the router acknowledged is on every replica of its shard (write quorum "all").
// Real encoder, real shards, real router, real text; the test restarts a killed replica itself on
// its old port, as `embedops serve` or a StatefulSet would.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardForId } from "../../src/router/shard-hash.js";
import { loadWordnetSentences } from "../fixtures/corpus/wordnet.js";
import {
  call,
  haveModel,
  MODEL_DIR,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";

const CYCLES = 20;
const BATCH = 32;

describe("router ingest while shard replicas are killed with SIGKILL", () => {
  let dir: string;
  let encoder: Role;
  let router: Role;
  let fingerprint: string;
  // replicas[shard][replica]
  const replicas: Role[][] = [];
  const names = ["s0", "s1"];

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    dir = mkdtempSync(join(tmpdir(), "embedops-router-kill-"));
    encoder = await startEncoder();
    await waitReady(encoder.url);
    fingerprint = ((await (await fetch(`${encoder.url}/info`)).json()) as { fingerprint: string })
      .fingerprint;
    for (const [s, name] of names.entries()) {
      replicas[s] = await Promise.all(
        [0, 1].map((r) => startShard(join(dir, `${name}-r${r}`), fingerprint, 384, `${name}-r${r}`)),
      );
      await Promise.all(replicas[s]!.map((r) => waitReady(r.url)));
    }
    const configPath = join(dir, "router.json");
    writeConfig(configPath, {
      index: "kill9",
      generation: "g1",
      fingerprint,
      dimension: 384,
      metric: "cosine",
      encoder: { url: encoder.url },
      shards: names.map((name, s) => ({ name, replicas: replicas[s]!.map((r) => r.url) })),
      timeoutMs: 5000,
      writeQuorum: "all",
      checkIntervalMs: 200,
    });
    router = await startRouterProcess(configPath);
    await waitReady(router.url);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([router, encoder, ...replicas.flat()].filter(Boolean).map((r) => r.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("when 20 kill -9 cycles hit replicas during ingest, then every acknowledged document is on every replica of its shard", async () => {
    const sentences = loadWordnetSentences(20_000);
    const acknowledged: string[] = [];
    let refused = 0;
    let next = 0;
    let stop = false;

    const writer = (async () => {
      while (!stop && next < sentences.length) {
        const batch = sentences.slice(next, next + BATCH);
        next += BATCH;
        try {
          const answer = await call(`${router.url}/v1/documents`, "POST", {
            documents: batch.map((s) => ({ id: s.id, text: s.text })),
          });
          if (answer.status === 200) acknowledged.push(...batch.map((s) => s.id));
          else refused += 1;
        } catch {
          refused += 1;
        }
      }
    })();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const s = cycle % names.length;
      const r = Math.floor(cycle / names.length) % 2;
      const victim = replicas[s]![r]!;
      const port = Number(new URL(victim.url).port);
      await new Promise((res) => setTimeout(res, 150 + ((cycle * 37) % 200)));
      await victim.kill9();
      await new Promise((res) => setTimeout(res, 100));
      const name = `${names[s]}-r${r}`;
      replicas[s]![r] = await startShard(join(dir, name), fingerprint, 384, name, port);
      await waitReady(replicas[s]![r]!.url);
    }
    stop = true;
    await writer;

    console.log(
      `acknowledged ${acknowledged.length} documents, ${refused} batches refused during ${CYCLES} kill -9 cycles`,
    );
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0); // the kills really hit writes, or this test proves nothing

    const missing: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 64) {
      await Promise.all(
        acknowledged.slice(i, i + 64).map(async (id) => {
          const s = shardForId(id, names.length);
          for (const [r, replica] of replicas[s]!.entries()) {
            const res = await fetch(`${replica.url}/v1/points/${encodeURIComponent(id)}`);
            await res.arrayBuffer();
            if (res.status !== 200) missing.push(`${id} on ${names[s]}-r${r} (${res.status})`);
          }
        }),
      );
    }
    expect(missing, missing.slice(0, 20).join("\n")).toEqual([]);
  }, 900_000);
});
