// EncoderRevisions against two small in-process HTTP encoders that speak the encoder's wire format
// (/info, /v1/embeddings in base64 with the fingerprint header) and can be told to misbehave. The
// real model and processes are in test/dataplane/router-revision-split.test.ts.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EncoderClient } from "../../../src/router/encoder-client.js";
import { EncoderRevisions } from "../../../src/router/encoder-revisions.js";
import { HttpError } from "../../../src/router/errors.js";
import { HttpClient } from "../../../src/router/http-client.js";
import { createRouterMetrics, type RouterMetrics } from "../../../src/router/metrics.js";
import { FINGERPRINT_HEADER } from "../../../src/router/shard-client.js";
import { float32ToLeBytes } from "../../../src/router/vector-codec.js";

const FP = "ab".repeat(32);
const OTHER_FP = "cd".repeat(32);
const generation = { name: "g1", fingerprint: FP, dimension: 2 };

interface FakeEncoder {
  url: string;
  /** Embedding calls received. */
  calls: number;
  infoFingerprint: string;
  /** What /v1/embeddings answers: a status, or a vector of another model. */
  mode: "ok" | "500" | "429" | "reset" | "other-model";
  server: Server;
}

async function fakeEncoder(value: number): Promise<FakeEncoder> {
  const fake = { calls: 0, infoFingerprint: FP, mode: "ok" } as FakeEncoder;
  fake.server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/info") {
        res.end(JSON.stringify({ model_id: "fake", dimension: 2, fingerprint: fake.infoFingerprint }));
        return;
      }
      fake.calls++;
      if (fake.mode === "reset") {
        req.socket.resetAndDestroy();
        return;
      }
      if (fake.mode === "500" || fake.mode === "429") {
        res.statusCode = Number(fake.mode);
        res.end(JSON.stringify({ error: { message: `fake ${fake.mode}` } }));
        return;
      }
      res.setHeader(FINGERPRINT_HEADER, fake.mode === "other-model" ? OTHER_FP : FP);
      const inputs = (JSON.parse(body) as { input: string[] }).input;
      const data = inputs.map((_, index) => ({
        index,
        embedding: float32ToLeBytes(Float32Array.of(value, 1)).toString("base64"),
      }));
      res.end(JSON.stringify({ data }));
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  return fake;
}

async function calls(metrics: RouterMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.encoderCalls.get()).values) {
    out[`${v.labels.revision}/${v.labels.outcome}`] = v.value;
  }
  return out;
}

describe("EncoderRevisions", () => {
  const http = new HttpClient();
  let stable: FakeEncoder;
  let canary: FakeEncoder;

  beforeAll(async () => {
    stable = await fakeEncoder(1);
    canary = await fakeEncoder(2);
  });
  afterEach(() => {
    for (const f of [stable, canary]) {
      f.calls = 0;
      f.mode = "ok";
      f.infoFingerprint = FP;
    }
  });
  afterAll(async () => {
    http.close();
    await Promise.all([stable, canary].map((f) => new Promise((r) => f.server.close(r))));
  });

  const make = async (weight: number, canaryUrl = canary.url) => {
    const metrics = createRouterMetrics();
    const revisions = new EncoderRevisions(
      { client: new EncoderClient(http, stable.url), revision: "r1" },
      { client: new EncoderClient(http, canaryUrl), revision: "r2", weight },
      generation,
      metrics,
    );
    await revisions.check(1000);
    return { metrics, revisions };
  };

  /** Embeds one query `n` times; returns the first component of each vector (1: stable, 2: canary). */
  const queries = async (revisions: EncoderRevisions, n: number) => {
    const got: number[] = [];
    for (let i = 0; i < n; i++) got.push((await revisions.embed(["q"], "query", 1000))[0]![0]!);
    return got;
  };

  it("when 100 queries are split at 10 %, then the canary embeds exactly 10 of them and both are counted ok", async () => {
    const { metrics, revisions } = await make(10);
    const got = await queries(revisions, 100);
    expect(got.filter((v) => v === 2)).toHaveLength(10);
    expect(canary.calls).toBe(10);
    expect(stable.calls).toBe(90);
    expect(await calls(metrics)).toEqual({ "r1/ok": 90, "r2/ok": 10 });
  });

  it("when an ingest batch is larger than one call, then all of its calls go to the one revision picked", async () => {
    const { revisions } = await make(100);
    const vectors = await revisions.embed(
      Array.from({ length: 70 }, (_, i) => `doc ${i}`),
      "document",
      1000,
    );
    expect(vectors.every((v) => v[0] === 2)).toBe(true);
    expect(stable.calls).toBe(0);
  });

  it("when the canary's /info reports another fingerprint, then it is sent nothing and its share is counted as mismatch", async () => {
    canary.infoFingerprint = OTHER_FP;
    const { metrics, revisions } = await make(10);
    expect(revisions.revisions().map((r) => r.status.state)).toEqual(["ok", "mismatch"]);
    expect(revisions.status.state).toBe("ok");
    const got = await queries(revisions, 100);
    expect(got.every((v) => v === 1)).toBe(true);
    expect(canary.calls).toBe(0);
    expect(await calls(metrics)).toEqual({ "r1/ok": 100, "r2/mismatch": 10 });
    const match = (await metrics.encoderFingerprintMatch.get()).values;
    expect(match.find((v) => v.labels.revision === "r2")?.value).toBe(0);
    expect(match.find((v) => v.labels.revision === "r1")?.value).toBe(1);
  });

  it("when the canary answers with another model's fingerprint, then its vectors are dropped, stable answers, and the canary is refused from then on", async () => {
    canary.mode = "other-model";
    const { metrics, revisions } = await make(50);
    const got = await queries(revisions, 10);
    expect(got.every((v) => v === 1)).toBe(true);
    expect(canary.calls).toBe(1);
    expect(revisions.revisions()[1]!.status.state).toBe("mismatch");
    expect(await calls(metrics)).toEqual({ "r1/ok": 10, "r2/mismatch": 5 });
  });

  it.each([
    { mode: "500" as const, outcome: "error" },
    { mode: "429" as const, outcome: "busy" },
    { mode: "reset" as const, outcome: "error" },
  ])(
    "when the canary answers $mode, then each failure is counted against it as $outcome and stable answers the request",
    async ({ mode, outcome }) => {
      canary.mode = mode;
      const { metrics, revisions } = await make(10);
      const got = await queries(revisions, 100);
      expect(got.every((v) => v === 1)).toBe(true);
      // A reset on a pooled socket is retried once on a fresh one (http-client.ts): still one call.
      if (mode === "reset") expect(canary.calls).toBeGreaterThanOrEqual(10);
      else expect(canary.calls).toBe(10);
      expect(stable.calls).toBe(100);
      expect(await calls(metrics)).toEqual({ "r1/ok": 100, [`r2/${outcome}`]: 10 });
      // The latency histogram holds the failed calls too, under their outcome.
      const failed = (await metrics.encoderDuration.get()).values.find(
        (v) => v.metricName?.endsWith("_count") && v.labels.revision === "r2" && v.labels.outcome === outcome,
      );
      expect(failed?.value).toBe(10);
    },
  );

  it("when the canary does not answer /info, then its share is counted unavailable and the router stays usable", async () => {
    const closed = await fakeEncoder(3);
    await new Promise((r) => closed.server.close(r));
    const { metrics, revisions } = await make(10, closed.url);
    expect(revisions.revisions()[1]!.status.state).toBe("unreachable");
    expect(revisions.status.state).toBe("ok");
    await queries(revisions, 20);
    expect(await calls(metrics)).toEqual({ "r1/ok": 20, "r2/unavailable": 2 });
  });

  it("when stable fails, then the request fails (there is nothing to fall back to) and stable's error is counted", async () => {
    stable.mode = "500";
    const { metrics, revisions } = await make(10);
    await expect(revisions.embed(["q"], "query", 1000)).rejects.toBeInstanceOf(HttpError);
    expect(await calls(metrics)).toEqual({ "r1/error": 1 });
  });

  it("when the config is reloaded with the same weight, then the split goes on where it was", async () => {
    const { metrics, revisions } = await make(10);
    await queries(revisions, 55);
    const next = new EncoderRevisions(
      { client: new EncoderClient(http, stable.url), revision: "r1" },
      { client: new EncoderClient(http, canary.url), revision: "r2", weight: 10 },
      generation,
      metrics,
      revisions,
    );
    await next.check(1000);
    await queries(next, 45);
    expect(canary.calls).toBe(10);
  });
});
