// An index moving to a new model, with real processes: generation g-old (all-minilm-l6-v2, mean
// pooling, 2 shards) is active and g-new (the same weights with CLS pooling: another embedding space
// and fingerprint, resharded to 3 shards) is the candidate; two real encoders, real shards, and the
// router as a process that reloads its config file. Each response's generation is checked against
// results computed without the router (each encoder and each generation's shards called directly),
// so a query answered by one model's vectors but labelled as the other's fails. Tests run in order.
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shardForId } from "../../src/router/shard-hash.js";
import { leBytesToFloat32 } from "../../src/router/vector-codec.js";
import { loadWordnetSentences } from "../fixtures/corpus/wordnet.js";
import {
  type Answer,
  CLS_MODEL_DIR,
  call,
  errorOf,
  eventually,
  haveClsModel,
  haveModel,
  type Role,
  startEncoder,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";

const OLD = "g-old";
const NEW = "g-new";
const K = 3;
const DOCS = loadWordnetSentences(150).map((s) => ({ id: s.id, text: s.text }));
/** Query texts: documents' own texts, so each query's top hit is its document in either space. */
const QUERY_TEXTS = DOCS.slice(0, 20).map((d) => d.text);
const GENERATION_HEADER = "x-embedops-generation";
const FINGERPRINT_HEADER = "x-embedops-model-fingerprint";

interface Hit {
  id: string;
  score: number;
}

interface Gen {
  name: string;
  fingerprint: string;
  encoder: Role;
  shards: Role[];
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** A query through express instead of the node:http fast path (a chunked body has no Content-Length). */
function chunkedQuery(url: string, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/v1/query`,
      { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers.set(k, v);
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: JSON.parse(text) as Record<string, unknown>,
          });
        });
      },
    );
    req.on("error", reject);
    req.write(JSON.stringify(body));
    req.end();
  });
}

describe("router serving two index generations of two models", () => {
  let dir: string;
  let oldGen: Gen;
  let newGen: Gen;
  let router: Role;
  let configPath: string;
  /** Per query text and generation: the top K computed without the router. */
  const expected = new Map<string, Record<string, Hit[]>>();

  const generationEntry = (g: Gen, role: "active" | "candidate", queryWeight?: number) => ({
    name: g.name,
    role,
    ...(queryWeight !== undefined ? { queryWeight } : {}),
    fingerprint: g.fingerprint,
    dimension: 384,
    metric: "cosine",
    encoder: { url: g.encoder.url },
    shards: g.shards.map((s, i) => ({ name: `s${i}`, replicas: [s.url] })),
  });
  const common = { index: "wordnet", timeoutMs: 5000, writeQuorum: "all" };
  const twoGenerations = (queryWeight: number) => ({
    ...common,
    generations: [generationEntry(oldGen, "active"), generationEntry(newGen, "candidate", queryWeight)],
  });

  /** Writes the config and waits until the router serves it (its /v1/stats shows the change). */
  const reloadTo = async (
    config: Record<string, unknown>,
    served: (stats: Record<string, unknown>) => boolean,
  ) => {
    writeConfig(configPath, config);
    await eventually(
      "router reloaded its config",
      async () => served((await call(`${router.url}/v1/stats`, "GET")).body),
      30_000,
    );
  };

  const candidateWeight = (stats: Record<string, unknown>) =>
    (stats.candidate as { queryWeight?: number } | undefined)?.queryWeight;

  const query = (text: string) => call(`${router.url}/v1/query`, "POST", { text, k: K });

  /** The response names one generation in its body and both headers, and its results are that generation's. */
  const checkAnswer = (a: Answer, text: string): string => {
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const name = a.body.generation as string;
    const gen = name === OLD ? oldGen : name === NEW ? newGen : undefined;
    expect(gen, `generation ${name}`).toBeDefined();
    expect(a.body.fingerprint).toBe(gen!.fingerprint);
    expect(a.headers.get(GENERATION_HEADER)).toBe(name);
    expect(a.headers.get(FINGERPRINT_HEADER)).toBe(gen!.fingerprint);
    const want = expected.get(text)?.[name];
    if (want) {
      const got = a.body.results as Hit[];
      expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
      got.forEach((h, i) => {
        expect(Math.abs(h.score - want[i]!.score)).toBeLessThan(2e-3);
      });
    }
    return name;
  };

  /** GET /v1/points/:id on every shard of a generation: which shards hold the id. */
  const holders = async (g: Gen, id: string): Promise<number[]> => {
    const found: number[] = [];
    await Promise.all(
      g.shards.map(async (s, i) => {
        const a = await call(`${s.url}/v1/points/${encodeURIComponent(id)}`, "GET");
        if (a.status === 200) found.push(i);
        else expect(a.status).toBe(404);
      }),
    );
    return found.sort();
  };

  const shardCount = async (g: Gen) =>
    (
      await Promise.all(
        g.shards.map(async (s) => (await call(`${s.url}/v1/stats`, "GET")).body.count as number),
      )
    ).reduce((n, c) => n + c, 0);

  /** The top K for a text in one generation without the router: its encoder, then its shards merged. */
  const direct = async (g: Gen, text: string): Promise<Hit[]> => {
    const emb = await call(`${g.encoder.url}/v1/embeddings`, "POST", { input: [text] });
    const vector = (emb.body.data as { embedding: number[] }[])[0]!.embedding;
    const lists = await Promise.all(
      g.shards.map(async (s) => {
        const res = await fetch(`${s.url}/v1/query`, {
          method: "POST",
          headers: { "content-type": "application/json", [FINGERPRINT_HEADER]: g.fingerprint },
          body: JSON.stringify({ vector, k: K }),
        });
        expect(res.status).toBe(200);
        return ((await res.json()) as { results: Hit[] }).results;
      }),
    );
    return lists
      .flat()
      .sort((a, b) => b.score - a.score)
      .slice(0, K)
      .map((h) => ({ id: h.id, score: h.score }));
  };

  /** Sends `n` queries over QUERY_TEXTS, `concurrency` at a time; latencies in ms and answers. */
  const load = async (n: number, concurrency = 4) => {
    const answers: { text: string; a: Answer }[] = [];
    const ms: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const text = QUERY_TEXTS[next++ % QUERY_TEXTS.length]!;
        const t0 = performance.now();
        const a = await query(text);
        ms.push(performance.now() - t0);
        answers.push({ text, a });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    ms.sort((a, b) => a - b);
    return { answers, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) };
  };

  beforeAll(async () => {
    if (!haveModel() || !haveClsModel())
      throw new Error(
        'models/all-minilm-l6-v2 and models/all-minilm-l6-v2-cls are needed: run "npm run setup:models"',
      );
    dir = mkdtempSync(join(tmpdir(), "embedops-generations-"));
    const [encOld, encNew] = await Promise.all([
      startEncoder(["--threads", "1"], "encoder-old"),
      startEncoder(["--threads", "1"], "encoder-new", CLS_MODEL_DIR),
    ]);
    await Promise.all([waitReady(encOld.url), waitReady(encNew.url)]);
    const fp = async (e: Role) =>
      ((await (await fetch(`${e.url}/info`)).json()) as { fingerprint: string }).fingerprint;
    const [fpOld, fpNew] = await Promise.all([fp(encOld), fp(encNew)]);
    expect(fpNew).not.toBe(fpOld);
    const shards = (name: string, fingerprint: string, n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          startShard(join(dir, `${name}-s${i}`), fingerprint, 384, `${name}-s${i}`),
        ),
      );
    const [oldShards, newShards] = await Promise.all([shards(OLD, fpOld, 2), shards(NEW, fpNew, 3)]);
    oldGen = { name: OLD, fingerprint: fpOld, encoder: encOld, shards: oldShards };
    newGen = { name: NEW, fingerprint: fpNew, encoder: encNew, shards: newShards };
    configPath = join(dir, "router.json");
    writeConfig(configPath, twoGenerations(0));
    router = await startRouterProcess(configPath);
    await waitReady(router.url);
  });

  afterAll(async () => {
    const roles = [
      router,
      oldGen?.encoder,
      newGen?.encoder,
      ...(oldGen?.shards ?? []),
      ...(newGen?.shards ?? []),
    ];
    await Promise.all(roles.filter((r): r is Role => r !== undefined).map((r) => r.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("candidate at queryWeight 0", () => {
    it("when documents are ingested, then each lands in both generations, on the shard its own shard count picks", async () => {
      const a = await call(`${router.url}/v1/documents`, "POST", { documents: DOCS });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body.generations).toEqual([OLD, NEW]);
      expect(a.body.upserted).toBe(DOCS.length);
      expect(Object.keys(a.body.shards as object).sort()).toEqual(["s0", "s1"]);
      expect((a.body.candidate as { generation: string; shards: object }).generation).toBe(NEW);
      expect(Object.keys((a.body.candidate as { shards: object }).shards).sort()).toEqual(["s0", "s1", "s2"]);
      expect(await shardCount(oldGen)).toBe(DOCS.length);
      expect(await shardCount(newGen)).toBe(DOCS.length);
      for (const d of DOCS.slice(0, 12)) {
        expect(await holders(oldGen, d.id)).toEqual([shardForId(d.id, 2)]);
        expect(await holders(newGen, d.id)).toEqual([shardForId(d.id, 3)]);
      }
      // Each generation's vector is its own model's: the same text in two spaces.
      const d = DOCS[0]!;
      const point = async (g: Gen) => {
        const v = (await call(`${g.shards[shardForId(d.id, g.shards.length)]!.url}/v1/points/${d.id}`, "GET"))
          .body.vector as number[] | string;
        return typeof v === "string" ? [...leBytesToFloat32(Buffer.from(v, "base64"))] : v;
      };
      const [vOld, vNew] = await Promise.all([point(oldGen), point(newGen)]);
      const cos = vOld.reduce((s, x, i) => s + x * vNew[i]!, 0);
      expect(cos).toBeLessThan(0.99);
    });

    it("when documents are deleted one by one or in a batch, then they are gone from both generations", async () => {
      const [one, two, three] = DOCS.slice(-3).map((d) => d.id);
      const a = await call(`${router.url}/v1/documents/${one}`, "DELETE");
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      expect(a.body.generations).toEqual([OLD, NEW]);
      const b = await call(`${router.url}/v1/documents/delete`, "POST", { ids: [two, three] });
      expect(b.status, JSON.stringify(b.body)).toBe(200);
      expect(b.body).toMatchObject({ deleted: 2, generations: [OLD, NEW] });
      for (const id of [one!, two!, three!]) {
        expect(await holders(oldGen, id)).toEqual([]);
        expect(await holders(newGen, id)).toEqual([]);
        expect((await call(`${router.url}/v1/documents/${id}`, "GET")).status).toBe(404);
      }
      expect(await shardCount(oldGen)).toBe(DOCS.length - 3);
      expect(await shardCount(newGen)).toBe(DOCS.length - 3);
      const kept = await call(`${router.url}/v1/documents/${DOCS[0]!.id}`, "GET");
      expect(kept.body).toMatchObject({ id: DOCS[0]!.id, generation: OLD });
    });
    it("when the results of every query text are computed without the router, then the two generations' differ", async () => {
      let distinct = 0;
      for (const text of QUERY_TEXTS) {
        const [o, n] = await Promise.all([direct(oldGen, text), direct(newGen, text)]);
        expected.set(text, { [OLD]: o, [NEW]: n });
        const differs = o.some((h, i) => h.id !== n[i]?.id || Math.abs(h.score - n[i]!.score) > 1e-2);
        if (differs) distinct++;
      }
      // Otherwise the checks of which generation answered could not tell the two apart.
      expect(distinct).toBeGreaterThanOrEqual(QUERY_TEXTS.length - 2);
    });

    it("when queries arrive, then every one is answered by the active generation, in the body and the headers of both paths", async () => {
      for (const text of QUERY_TEXTS) {
        expect(checkAnswer(await query(text), text)).toBe(OLD);
        expect(checkAnswer(await chunkedQuery(router.url, { text, k: K }), text)).toBe(OLD);
      }
    });

    it("when the router reports its state, then readiness and stats name both generations", async () => {
      const ready = await call(`${router.url}/readyz`, "GET");
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        ready: true,
        generation: OLD,
        candidate: { generation: NEW, ready: true },
      });
      const stats = await call(`${router.url}/v1/stats`, "GET");
      expect(stats.body).toMatchObject({
        generation: OLD,
        role: "active",
        fingerprint: oldGen.fingerprint,
        count: DOCS.length - 3,
        candidate: {
          generation: NEW,
          role: "candidate",
          fingerprint: newGen.fingerprint,
          count: DOCS.length - 3,
          queryWeight: 0,
        },
      });
      expect((stats.body.candidate as { shards: unknown[] }).shards).toHaveLength(3);
    });

    it("when a vector query declares a fingerprint, then the generation of that model answers it, and an unknown one is a 409 naming both", async () => {
      const text = QUERY_TEXTS[0]!;
      for (const g of [oldGen, newGen]) {
        const emb = await call(`${g.encoder.url}/v1/embeddings`, "POST", { input: [text] });
        const vector = (emb.body.data as { embedding: number[] }[])[0]!.embedding;
        const a = await call(`${router.url}/v1/query`, "POST", { vector, fingerprint: g.fingerprint, k: K });
        expect(checkAnswer(a, text)).toBe(g.name);
      }
      const other = "0".repeat(64);
      const a = await call(`${router.url}/v1/query`, "POST", {
        vector: new Array(384).fill(0.1),
        fingerprint: other,
      });
      expect(a.status).toBe(409);
      expect(errorOf(a).code).toBe("fingerprint_mismatch");
      expect(errorOf(a).message).toContain(oldGen.fingerprint);
      expect(errorOf(a).message).toContain(newGen.fingerprint);
      expect(a.headers.get(FINGERPRINT_HEADER)).toBe(oldGen.fingerprint);
    });
  });

  describe("query latency with one and two generations", () => {
    it("when 1,000 queries run against the active generation alone and then beside a candidate at weight 0, then all are answered (p50/p99 logged)", async () => {
      await reloadTo(
        { ...common, generations: [generationEntry(oldGen, "active")] },
        (s) => s.candidate === undefined,
      );
      const one = await load(1000);
      await reloadTo(twoGenerations(0), (s) => candidateWeight(s) === 0);
      const two = await load(1000);
      for (const { text, a } of [...one.answers, ...two.answers]) expect(checkAnswer(a, text)).toBe(OLD);
      console.log(
        `query latency over 1,000 queries (concurrency 4): one generation p50 ${one.p50.toFixed(1)} ms p99 ${one.p99.toFixed(1)} ms; ` +
          `two generations (candidate at 0 %) p50 ${two.p50.toFixed(1)} ms p99 ${two.p99.toFixed(1)} ms`,
      );
    });
  });

  describe("candidate at queryWeight 30", () => {
    it("when 1,000 queries arrive, then 30 % ± 5 % are answered by the candidate, each with its own model's results", async () => {
      await reloadTo(twoGenerations(30), (s) => candidateWeight(s) === 30);
      const metricsBefore = await (await fetch(`${router.url}/metrics`)).text();
      const { answers, p50, p99 } = await load(1000);
      let byCandidate = 0;
      for (const { text, a } of answers) if (checkAnswer(a, text) === NEW) byCandidate++;
      console.log(
        `split at queryWeight 30: ${byCandidate} of 1,000 queries answered by the candidate; p50 ${p50.toFixed(1)} ms p99 ${p99.toFixed(1)} ms`,
      );
      expect(byCandidate).toBeGreaterThanOrEqual(250);
      expect(byCandidate).toBeLessThanOrEqual(350);
      const count = (text: string, generation: string) => {
        const re = new RegExp(
          `^embedops_router_request_duration_seconds_count\\{route="/v1/query",status="200",fingerprint="[^"]+",generation="${generation}"\\} (\\d+)$`,
          "m",
        );
        return Number(re.exec(text)?.[1] ?? 0);
      };
      const metricsAfter = await (await fetch(`${router.url}/metrics`)).text();
      expect(count(metricsAfter, NEW) - count(metricsBefore, NEW)).toBe(byCandidate);
      expect(count(metricsAfter, OLD) - count(metricsBefore, OLD)).toBe(1000 - byCandidate);
      // The express path (a chunked body) names the candidate the same way: 20 queries in a row hold 6 ± 1.
      let chunkedByCandidate = 0;
      for (let i = 0; i < 20; i++) {
        const text = QUERY_TEXTS[i]!;
        if (checkAnswer(await chunkedQuery(router.url, { text, k: K }), text) === NEW) chunkedByCandidate++;
      }
      expect(chunkedByCandidate).toBeGreaterThanOrEqual(5);
      expect(chunkedByCandidate).toBeLessThanOrEqual(7);
    });
  });

  describe("a candidate shard down", () => {
    it("when a candidate shard is killed, then writes fail 503 naming the candidate while queries are answered by the active generation", async () => {
      const victim = newGen.shards[0]!;
      const port = Number(new URL(victim.url).port);
      await victim.kill9();
      await eventually("the candidate is reported not ready", async () => {
        const r = await call(`${router.url}/readyz`, "GET");
        return (r.body.candidate as { ready?: boolean } | undefined)?.ready === false;
      });
      expect((await call(`${router.url}/readyz`, "GET")).status).toBe(200);
      for (let i = 0; i < 40; i++) {
        const text = QUERY_TEXTS[i % QUERY_TEXTS.length]!;
        expect(checkAnswer(await query(text), text)).toBe(OLD);
      }
      const onVictim = DOCS.filter((d) => shardForId(d.id, 3) === 0).slice(0, 2);
      const w = await call(`${router.url}/v1/documents`, "POST", { documents: onVictim });
      expect(w.status).toBe(503);
      expect(errorOf(w).code).toBe("candidate_unavailable");
      expect(errorOf(w).message).toContain(`generation ${NEW} (candidate)`);
      // Like a write that missed its quorum, a failed dual-write may be in the active generation: here
      // the delete is, and the write below puts the documents back in both.
      const del = await call(`${router.url}/v1/documents/delete`, "POST", { ids: onVictim.map((d) => d.id) });
      expect(del.status).toBe(503);
      expect(errorOf(del).code).toBe("candidate_unavailable");
      expect(errorOf(del).message).toContain(`generation ${NEW} (candidate)`);
      // Back on the same port and data directory: the candidate serves and takes writes again.
      newGen.shards[0] = await startShard(join(dir, `${NEW}-s0`), newGen.fingerprint, 384, `${NEW}-s0`, port);
      await eventually("the candidate is ready again", async () => {
        const r = await call(`${router.url}/readyz`, "GET");
        return (r.body.candidate as { ready?: boolean } | undefined)?.ready === true;
      });
      const again = await call(`${router.url}/v1/documents`, "POST", { documents: onVictim });
      expect(again.status, JSON.stringify(again.body)).toBe(200);
      for (const d of onVictim) {
        expect(await holders(newGen, d.id)).toEqual([0]);
        expect(await holders(oldGen, d.id)).toEqual([shardForId(d.id, 2)]);
      }
    });
  });

  describe("promotion", () => {
    it("when the config is reloaded with the candidate as the only active generation, then no query fails across the swap and the new one answers every query after it", async () => {
      let stop = false;
      const seen: { text: string; a: Answer; after: boolean }[] = [];
      let promoted = false;
      const worker = async (w: number) => {
        let i = w;
        while (!stop) {
          const text = QUERY_TEXTS[i++ % QUERY_TEXTS.length]!;
          const after = promoted;
          seen.push({ text, a: await query(text), after });
        }
      };
      const workers = Array.from({ length: 4 }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 1500));
      await reloadTo(
        { ...common, generations: [generationEntry(newGen, "active")] },
        (s) => s.generation === NEW && s.candidate === undefined,
      );
      promoted = true;
      await new Promise((r) => setTimeout(r, 1500));
      stop = true;
      await Promise.all(workers);
      const failed = seen.filter((s) => s.a.status !== 200);
      expect(failed.map((s) => s.a.body)).toEqual([]);
      const before = seen.filter((s) => !s.after).map((s) => checkAnswer(s.a, s.text));
      const after = seen.filter((s) => s.after).map((s) => checkAnswer(s.a, s.text));
      console.log(
        `promotion: ${seen.length} queries across the reload, ${failed.length} failed; before: ${before.filter((g) => g === NEW).length} of ${before.length} by ${NEW}`,
      );
      expect(before).toContain(OLD);
      expect(after.length).toBeGreaterThan(10);
      expect(new Set(after)).toEqual(new Set([NEW]));
      const w = await call(`${router.url}/v1/documents`, "POST", {
        documents: [{ id: "after-promotion", text: "a new model" }],
      });
      expect(w.status).toBe(200);
      expect(w.body.generations).toEqual([NEW]);
      expect(await holders(oldGen, "after-promotion")).toEqual([]);
    });
  });
});
