// Issue 10 point 5 under `embedops serve`: raising spec.replicas from 1 to 2 while a client writes,
// deletes and queries. The new replica is seeded from the serving one (copy at a watermark, then the
// writes after it) and joins queries only once it holds every acknowledged document: checked on the
// replicas' own HTTP APIs (same live ids, every acknowledged write, no acknowledged delete), and on
// its own request metrics (no query answered while the router's config still listed it as syncing).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readServeState } from "../../src/local/serve-state.js";
import { parsePrometheusText } from "../../src/rollout/prometheus-text.js";
import { type Definition, nounDefinitions } from "../fixtures/corpus/noun-definitions.js";
import { haveModel } from "./router-harness.js";
import {
  killServe,
  minilmIndexYaml,
  type ServeProcess,
  spawnServe,
  until,
  waitServeReady,
} from "./serve-process.js";
import { allIds } from "./shard-process.js";

const DOCS = 2000;
const all = nounDefinitions(DOCS + 600, 15);
const corpus = all.slice(0, DOCS);
const extra = all.slice(DOCS);

const yaml = (replicas: number) => minilmIndexYaml(replicas);

async function post(url: string, body: unknown, timeoutMs = 60_000): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
}

/** Queries answered by a shard replica so far (its own /metrics). */
async function queriesAnswered(replica: string): Promise<number> {
  const res = await fetch(`${replica}/metrics`, { signal: AbortSignal.timeout(5000) });
  return parsePrometheusText(await res.text())
    .filter((s) => s.name.endsWith("http_request_duration_seconds_count") && s.labels.route === "/v1/query")
    .reduce((n, s) => n + s.value, 0);
}

/** Writes new documents, deletes corpus ones and queries, all through the router, until stopped. */
function client(router: string) {
  const acked = { writes: new Set<string>(), deletes: new Set<string>() };
  const attempted = { writes: new Set<string>(), deletes: new Set<string>() };
  let queries = 0;
  let running = true;
  const writes = (async () => {
    for (let i = 0; running && i < extra.length; i++) {
      const d = extra[i] as Definition;
      attempted.writes.add(d.id);
      try {
        const res = await post(`${router}/v1/documents`, { documents: [{ id: d.id, text: d.text }] });
        await res.arrayBuffer();
        if (res.status === 200) acked.writes.add(d.id);
      } catch {
        // not acknowledged: it may or may not be there
      }
      const victim = (corpus[(i * 37 + 11) % DOCS] as Definition).id;
      if (!attempted.deletes.has(victim)) {
        attempted.deletes.add(victim);
        try {
          const res = await post(`${router}/v1/documents/delete`, { ids: [victim] });
          await res.arrayBuffer();
          if (res.status === 200) acked.deletes.add(victim);
        } catch {
          // not acknowledged
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const reads = (async () => {
    for (let i = 0; running; i++) {
      try {
        const res = await post(
          `${router}/v1/query`,
          { text: (corpus[i % DOCS] as Definition).lemma, k: 5 },
          10_000,
        );
        await res.arrayBuffer();
        queries++;
      } catch {
        // counted only when answered
      }
      await new Promise((r) => setTimeout(r, 30));
    }
  })();
  return {
    acked,
    attempted,
    queries: () => queries,
    stop: async () => {
      running = false;
      await Promise.all([writes, reads]);
    },
  };
}

describe.skipIf(!haveModel())("embedops serve: raising spec.replicas under ingest", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "embedops-serve-seeding-"));
  const file = join(dataDir, "index.yaml");
  let serve: ServeProcess | undefined;

  afterAll(async () => {
    if (serve) {
      writeFileSync(join(tmpdir(), "embedops-serve-replica-seeding.log"), serve.output());
      await killServe(serve);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("when replicas go from 1 to 2 while a client writes, deletes and queries, then the new replica is queried only once it holds every acknowledged document", {
    timeout: 240_000,
  }, async () => {
    writeFileSync(file, yaml(1));
    serve = spawnServe({ dataDir, file });
    const state = await waitServeReady(serve);
    const router = state.indexes.docs!.router;
    const first = state.indexes.docs!.shards[0]![0]!;
    for (let i = 0; i < DOCS; i += 200) {
      const res = await post(`${router}/v1/documents`, {
        documents: corpus.slice(i, i + 200).map((d) => ({ id: d.id, text: d.text })),
      });
      expect(res.status).toBe(200);
    }

    const traffic = client(router);
    await until("the client wrote a few documents", 60_000, () => traffic.acked.writes.size >= 5);
    writeFileSync(file, yaml(2));

    // While the router's config lists the new replica as syncing, it must have answered no query.
    const routerConfig = join(dataDir, "indexes", "docs", "router.json");
    const syncingIn = (): string | undefined => {
      const config = JSON.parse(readFileSync(routerConfig, "utf8")) as {
        generations: { shards: { syncing?: string[] }[] }[];
      };
      return config.generations[0]?.shards[0]?.syncing?.[0];
    };
    let second: string | undefined;
    const whileSyncing: number[] = [];
    const phases = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const url = syncingIn();
        if (url) {
          second = url;
          const n = await queriesAnswered(url).catch(() => undefined);
          // Counted only if the config still said syncing after the count was read.
          if (n !== undefined && syncingIn() === url) whileSyncing.push(n);
        }
        for (const s of readServeState(dataDir)?.indexes.docs?.seeding ?? []) phases.add(s.phase);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await until("the new replica serves queries", 180_000, () =>
      serve!.output().includes("shard-0 replica 1 serves queries"),
    ).finally(async () => {
      sampling = false;
      await sampler;
    });
    expect(second).toBeDefined();
    expect(whileSyncing.length).toBeGreaterThan(0);
    expect(Math.max(...whileSyncing)).toBe(0);
    expect(phases.has("syncing") || phases.has("joining")).toBe(true);
    const caughtUp = Number(
      /replica 1 serves queries \(seeded at seq \d+, (\d+) rows caught up\)/.exec(serve.output())?.[1],
    );
    expect(caughtUp).toBeGreaterThan(0);

    // Once it is in the query set, the router does send it queries (the count above could see them).
    let answered = 0;
    for (let tries = 0; tries < 300 && answered === 0; tries++) {
      answered = await queriesAnswered(second!);
      if (answered === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answered).toBeGreaterThan(0);
    await traffic.stop();

    const after = readServeState(dataDir)!.indexes.docs!;
    expect(after.shards[0]).toEqual([first, second]);
    expect(after.seeding).toBeUndefined();
    const serveMetrics = await (await fetch(`${readServeState(dataDir)!.metrics}/metrics`)).text();
    expect(serveMetrics).toContain('embedops_serve_replicas_seeding{index="docs"} 0');
    const [ids1, ids2] = [await allIds(first), await allIds(second!)];
    expect(ids2.size).toBe(ids1.size);
    expect([...ids1].filter((id) => !ids2.has(id))).toEqual([]);
    expect([...traffic.acked.writes].filter((id) => !ids2.has(id))).toEqual([]);
    expect([...traffic.acked.deletes].filter((id) => ids2.has(id))).toEqual([]);
    expect(traffic.acked.deletes.size).toBeGreaterThan(0);
  });

  it("when replicas go back to 1, then the new replica leaves the router, stops, and its data is removed", {
    timeout: 120_000,
  }, async () => {
    const before = readServeState(dataDir)!.indexes.docs!;
    const [first, second] = before.shards[0]!;
    expect(second).toBeDefined();
    writeFileSync(file, yaml(1));
    await until("serve says the replica stopped", 60_000, () =>
      serve!.output().includes("shard-0 replica 1 stopped (spec.replicas is 1); its data was removed"),
    );
    expect(readServeState(dataDir)!.indexes.docs!.shards).toEqual([[first]]);
    const config = JSON.parse(readFileSync(join(dataDir, "indexes", "docs", "router.json"), "utf8")) as {
      generations: { name: string; shards: { replicas: string[] }[] }[];
    };
    expect(config.generations[0]!.shards[0]!.replicas).toEqual([first]);
    const dir = join(dataDir, "indexes", "docs", config.generations[0]!.name, "shard-0", "replica-1");
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(`${second}/healthz`)).rejects.toThrow();
    const res = await post(`${before.router}/v1/query`, { text: (corpus[0] as Definition).lemma, k: 3 });
    expect(res.status).toBe(200);
  });

  it("when serve starts with replicas: 2 and replica 1's data dir is empty beside replica 0's, then replica 1 is seeded before it serves", {
    timeout: 180_000,
  }, async () => {
    serve!.proc.kill("SIGTERM");
    expect(await serve!.exited).toBe(0);
    writeFileSync(file, yaml(2));
    serve = spawnServe({ dataDir, file });
    const state = await waitServeReady(serve);
    const first = state.indexes.docs!.shards[0]![0]!;
    await until("the empty replica is seeded and serves queries", 120_000, () =>
      serve!.output().includes("shard-0 replica 1 serves queries"),
    );
    expect(serve.output()).toContain("shard-0 replica 1 copying");
    const shards = readServeState(dataDir)!.indexes.docs!.shards[0]!;
    expect(shards).toHaveLength(2);
    const [ids1, ids2] = [await allIds(first), await allIds(shards[1]!)];
    expect(ids1.size).toBeGreaterThan(DOCS / 2);
    expect(ids2).toEqual(ids1);
  });
});
