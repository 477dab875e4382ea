// Which generation answers: the exact query split between the active and the candidate generation,
// vectors by their declared fingerprint, a candidate that cannot serve, and what a reload carries over.
// No network: encoders are null (vector-only generations) and replicas start live.
import { afterEach, describe, expect, it } from "vitest";
import { parseRouterConfig } from "../../../src/router/config.js";
import { HttpError } from "../../../src/router/errors.js";
import { HttpClient } from "../../../src/router/http-client.js";
import { IndexRuntime } from "../../../src/router/index-runtime.js";
import { createRouterMetrics } from "../../../src/router/metrics.js";
import { createLogger } from "../../../src/util/log.js";

const fpOld = "ab".repeat(32);
const fpNew = "cd".repeat(32);
const gen = (name: string, fingerprint: string, ports: number[]) => ({
  name,
  fingerprint,
  dimension: 4,
  metric: "cosine",
  encoder: null,
  shards: ports.map((p, i) => ({ name: `s${i}`, replicas: [`http://127.0.0.1:${p}`] })),
});
const oldGen = gen("g-old", fpOld, [9101, 9102]);
const newGen = gen("g-new", fpNew, [9201, 9202, 9203]);
const twoGenerations = (queryWeight: number) =>
  parseRouterConfig({
    index: "docs",
    generations: [oldGen, { ...newGen, role: "candidate", queryWeight }],
  });

const http = new HttpClient();
const metrics = createRouterMetrics();
const log = createLogger({ test: "index-runtime" });
const runtimes: IndexRuntime[] = [];
const runtime = (config = twoGenerations(30), previous?: IndexRuntime) => {
  const rt = new IndexRuntime(config, http, metrics, log, previous);
  runtimes.push(rt);
  return rt;
};
afterEach(() => {
  for (const rt of runtimes.splice(0)) rt.stop();
});

describe("IndexRuntime", () => {
  it("when the candidate has queryWeight 30, then exactly 300 of 1,000 text queries go to it", () => {
    const rt = runtime();
    const names = Array.from({ length: 1000 }, () => rt.forText().name);
    expect(names.filter((n) => n === "g-new")).toHaveLength(300);
    expect(names.filter((n) => n === "g-old")).toHaveLength(700);
  });

  it.each([0, 100])("when the candidate has queryWeight %i, then the split is all or nothing", (w) => {
    const rt = runtime(twoGenerations(w));
    const names = new Set(Array.from({ length: 200 }, () => rt.forText().name));
    expect(names).toEqual(new Set([w === 0 ? "g-old" : "g-new"]));
  });

  it("when the index has one generation, then every query goes to it", () => {
    const rt = runtime(parseRouterConfig({ index: "docs", generations: [oldGen] }));
    expect(rt.candidate).toBeUndefined();
    expect(new Set(Array.from({ length: 50 }, () => rt.forText().name))).toEqual(new Set(["g-old"]));
  });

  it("when a candidate shard has no live replica, then its share goes to the active generation and readiness is unaffected", () => {
    const rt = runtime(twoGenerations(100));
    const shard = rt.candidate!.shards[2]!;
    shard.markDown(shard.replicas[0]!.url, "connection refused");
    expect(new Set(Array.from({ length: 50 }, () => rt.forText().name))).toEqual(new Set(["g-old"]));
    expect(rt.notReadyReasons()).toEqual([]);
    expect(rt.candidate!.notReadyReasons()).toEqual(["shard s2 has no live replica"]);
  });

  it("when an active shard has no live replica, then the index is not ready", () => {
    const rt = runtime();
    const shard = rt.active.shards[0]!;
    shard.markDown(shard.replicas[0]!.url, "connection refused");
    expect(rt.notReadyReasons()).toEqual(["shard s0 has no live replica"]);
  });

  it("when a vector declares a fingerprint, then the generation of that model answers it; undeclared, the active one", () => {
    const rt = runtime(twoGenerations(0));
    expect(rt.forVector(fpNew).name).toBe("g-new");
    expect(rt.forVector(fpOld).name).toBe("g-old");
    expect(rt.forVector(undefined).name).toBe("g-old");
  });

  it("when a vector declares a fingerprint no generation has, then it is a 409 naming every fingerprint served", () => {
    const rt = runtime();
    let err: unknown;
    try {
      rt.forVector("ef".repeat(32));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(409);
    expect((err as HttpError).message).toContain(`g-old (active): ${fpOld}`);
    expect((err as HttpError).message).toContain(`g-new (candidate): ${fpNew}`);
  });

  it("when the config is reloaded with the same weight, then the split continues where it was", () => {
    const first = runtime();
    const a = Array.from({ length: 37 }, () => first.forText().name);
    const second = runtime(twoGenerations(30), first);
    const b = Array.from({ length: 63 }, () => second.forText().name);
    expect([...a, ...b].filter((n) => n === "g-new")).toHaveLength(30);
  });

  it("when the candidate is promoted by a reload, then it keeps what its replicas' probes learned", () => {
    const before = runtime();
    const r = before.candidate!.shards[1]!.replicas[0]!;
    before.candidate!.shards[1]!.markDown(r.url, "connection refused");
    const promoted = runtime(parseRouterConfig({ index: "docs", generations: [newGen] }), before);
    expect(promoted.active.name).toBe("g-new");
    expect(promoted.candidate).toBeUndefined();
    expect(promoted.active.shards[1]!.replicas[0]).toMatchObject({
      live: false,
      lastError: "connection refused",
    });
    expect(promoted.active.shards[0]!.replicas[0]!.live).toBe(true);
  });
});
