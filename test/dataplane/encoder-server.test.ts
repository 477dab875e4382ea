// The encoder as users run it: the real CLI process, the real MiniLM model, real HTTP clients.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cosine,
  type EncoderProcess,
  metricValue,
  norm,
  postJson,
  startEncoderProcess,
} from "./encoder-server-harness.js";

const LONG =
  "Kubernetes operators reconcile declared state with observed state, one resource at a time. ".repeat(40);
const FINGERPRINT = /^[0-9a-f]{64}$/;

describe("encoder server", () => {
  let enc: EncoderProcess;
  beforeAll(async () => {
    enc = await startEncoderProcess();
  });
  afterAll(async () => {
    await enc?.stop();
  });

  describe("lifecycle", () => {
    it("when the server has just started listening, then /readyz is 503 JSON until the model is warm", () => {
      expect(enc.firstReadyz.status).toBe(503);
      expect(enc.firstReadyz.body).toMatchObject({ status: "not ready" });
    });

    it("when the model is loaded, then /healthz and /readyz are 200", async () => {
      expect((await fetch(`${enc.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${enc.url}/readyz`)).status).toBe(200);
    });
  });

  describe("OpenAI /v1/embeddings with the official client", () => {
    const client = () => new OpenAI({ baseURL: `${enc.url}/v1`, apiKey: "unused", maxRetries: 0 });

    it("when one string is sent as float, then one 384-d unit vector and usage come back", async () => {
      const r = await client().embeddings.create({
        model: "whatever",
        input: "The cat sat on the mat.",
        encoding_format: "float",
      });
      expect(r.object).toBe("list");
      expect(r.model).toBe("all-minilm-l6-v2");
      expect(r.data).toHaveLength(1);
      expect(r.data[0]!.index).toBe(0);
      expect(r.data[0]!.embedding).toHaveLength(384);
      expect(norm(r.data[0]!.embedding)).toBeCloseTo(1, 4);
      expect(r.usage.prompt_tokens).toBeGreaterThan(2);
      expect(r.usage.total_tokens).toBe(r.usage.prompt_tokens);
    });

    it("when a batch is sent as base64, then the decoded vectors equal the float ones", async () => {
      const input = ["first sentence", "a second, longer sentence about vector search"];
      const f = await client().embeddings.create({ model: "m", input, encoding_format: "float" });
      const b = await client().embeddings.create({ model: "m", input, encoding_format: "base64" });
      expect(b.data.map((d) => d.index)).toEqual([0, 1]);
      for (let i = 0; i < 2; i++) {
        const bytes = Buffer.from(b.data[i]!.embedding as unknown as string, "base64");
        const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
        expect(Array.from(decoded)).toEqual(f.data[i]!.embedding);
      }
    });

    it("when no encoding_format is given, then the client's base64 default decodes to the same vectors", async () => {
      const input = ["alpha", "beta gamma"];
      const dflt = await client().embeddings.create({ model: "m", input });
      const f = await client().embeddings.create({ model: "m", input, encoding_format: "float" });
      expect(dflt.data.map((d) => Array.from(d.embedding))).toEqual(f.data.map((d) => d.embedding));
    });

    it("when the server refuses a request, then the client raises a BadRequestError naming the field", async () => {
      const err = await client()
        .embeddings.create({ model: "m", input: ["ok", ""] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("input[1]");
    });
  });

  describe("TEI /embed", () => {
    it("when normalize is true (the default), then vectors have unit norm", async () => {
      const r = await postJson(`${enc.url}/embed`, { inputs: ["hello there", "general kenobi"] });
      expect(r.status).toBe(200);
      const rows = r.json as number[][];
      expect(rows).toHaveLength(2);
      for (const row of rows) expect(norm(row)).toBeCloseTo(1, 4);
    });

    it("when normalize is false, then vectors are the raw pooled ones (not unit) pointing the same way", async () => {
      const raw = (await postJson(`${enc.url}/embed`, { inputs: "hello there", normalize: false }))
        .json as number[][];
      const unit = (await postJson(`${enc.url}/embed`, { inputs: "hello there" })).json as number[][];
      expect(Math.abs(norm(raw[0]!) - 1)).toBeGreaterThan(0.01);
      expect(cosine(raw[0]!, unit[0]!)).toBeGreaterThan(0.9999);
    });

    it("when a text is embedded alone and inside a batch with a long text, then padding changes nothing", async () => {
      const text = "Embeddings must not depend on their neighbours in a batch.";
      const alone = (await postJson(`${enc.url}/embed`, { inputs: [text] })).json as number[][];
      const batched = (await postJson(`${enc.url}/embed`, { inputs: [LONG, "x y z", text] }))
        .json as number[][];
      expect(cosine(alone[0]!, batched[2]!)).toBeGreaterThan(0.9999);
    });

    it("when an input is over length and truncate is false, then 413 names the input and its tokens", async () => {
      const r = await postJson(`${enc.url}/embed`, { inputs: ["short", LONG], truncate: false });
      expect(r.status).toBe(413);
      expect(r.json).toMatchObject({ error_type: "Validation" });
      expect((r.json as { error: string }).error).toMatch(
        /^inputs\[1\] has \d+ tokens, more than this model's maximum of 256/,
      );
    });

    it("when an input is over length and truncate is left at its default, then it is embedded", async () => {
      const r = await postJson(`${enc.url}/embed`, { inputs: LONG });
      expect(r.status).toBe(200);
      expect((r.json as number[][])[0]).toHaveLength(384);
    });
  });

  describe("identity", () => {
    it("when /info is read, then it describes the model, the limits and the version", async () => {
      const r = await fetch(`${enc.url}/info`);
      const info = (await r.json()) as Record<string, unknown>;
      expect(info).toMatchObject({
        model_id: "all-minilm-l6-v2",
        dimension: 384,
        pooling: "mean",
        normalize: true,
        max_input_length: 256,
        max_batch_tokens: 16384,
        max_batch_requests: 32,
        max_concurrent_requests: 512,
        max_client_batch_size: 64,
        threads: 2,
      });
      expect(info.fingerprint).toMatch(FINGERPRINT);
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(r.headers.get("x-embedops-model-fingerprint")).toBe(info.fingerprint);
    });

    it("when a request fails (404, 400), then the response still carries the fingerprint header", async () => {
      const missing = await fetch(`${enc.url}/nope`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get("x-embedops-model-fingerprint")).toMatch(FINGERPRINT);
      expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
      const bad = await postJson(`${enc.url}/v1/embeddings`, "{not json");
      expect(bad.headers.get("x-embedops-model-fingerprint")).toMatch(FINGERPRINT);
    });
  });

  describe("bad input is a 4xx naming the field, never a 5xx", () => {
    const openAiCases: { when: string; body: unknown; status: number; param: string | null }[] = [
      { when: "the body is not JSON", body: "{not json", status: 400, param: null },
      { when: "the body is a JSON string", body: '"text"', status: 400, param: null },
      { when: "input is missing", body: { model: "m" }, status: 400, param: "input" },
      { when: "input[2] is a number", body: { input: ["a", "b", 3] }, status: 400, param: "input[2]" },
      { when: "input is an empty string", body: { input: "" }, status: 400, param: "input" },
      { when: "input is an empty array", body: { input: [] }, status: 400, param: "input" },
      {
        when: "encoding_format is wrong",
        body: { input: "a", encoding_format: "hex" },
        status: 400,
        param: "encoding_format",
      },
      {
        when: "dimensions is not 384",
        body: { input: "a", dimensions: 64 },
        status: 400,
        param: "dimensions",
      },
      { when: "there are 65 inputs", body: { input: Array(65).fill("a") }, status: 413, param: "input" },
    ];
    for (const c of openAiCases) {
      it(`when ${c.when} on /v1/embeddings, then ${c.status} names ${c.param ?? "the body"}`, async () => {
        const r = await postJson(`${enc.url}/v1/embeddings`, c.body);
        expect(r.status).toBe(c.status);
        const err = (r.json as { error: { param: unknown; type: string; message: string } }).error;
        expect(err.param).toBe(c.param);
        expect(err.type).toBe("invalid_request_error");
        expect(err.message.length).toBeGreaterThan(10);
      });
    }

    const teiCases: { when: string; body: unknown; says: RegExp }[] = [
      {
        when: "inputs is an object",
        body: { inputs: { a: 1 } },
        says: /^inputs must be a string or an array/,
      },
      { when: "inputs[1] is null", body: { inputs: ["a", null] }, says: /^inputs\[1\] must be a string/ },
      { when: "normalize is a string", body: { inputs: "a", normalize: "no" }, says: /^normalize/ },
      {
        when: "truncation_direction is Left",
        body: { inputs: "a", truncation_direction: "Left" },
        says: /Right/,
      },
    ];
    for (const c of teiCases) {
      it(`when ${c.when} on /embed, then 400 in TEI's error shape`, async () => {
        const r = await postJson(`${enc.url}/embed`, c.body);
        expect(r.status).toBe(400);
        expect(r.json).toMatchObject({ error_type: "Validation" });
        expect((r.json as { error: string }).error).toMatch(c.says);
      });
    }

    it("when the body is over --max-body-bytes, then 413 JSON says so", async () => {
      const r = await postJson(`${enc.url}/v1/embeddings`, { input: ["x".repeat(3 * 1024 * 1024)] });
      expect(r.status).toBe(413);
      expect((r.json as { error: { message: string } }).error.message).toMatch(
        /more than the limit of 2097152 bytes/,
      );
    });
  });

  describe("metrics", () => {
    it("when embeddings are computed and a request is refused, then the counters move", async () => {
      const before = await (await fetch(`${enc.url}/metrics`)).text();
      await postJson(`${enc.url}/embed`, { inputs: ["one", "two", "three"] });
      await postJson(`${enc.url}/embed`, { inputs: [] });
      const after = await (await fetch(`${enc.url}/metrics`)).text();
      for (const name of [
        "embedops_encoder_request_duration_seconds_bucket",
        "embedops_encoder_batch_size_bucket",
        "embedops_encoder_batch_tokens_bucket",
        "embedops_encoder_queue_depth",
        "embedops_encoder_inference_duration_seconds_bucket",
        "embedops_process_cpu_user_seconds_total",
      ]) {
        expect(after).toContain(name);
      }
      const delta = (name: string, labels = "") =>
        metricValue(after, name, labels) - metricValue(before, name, labels);
      expect(delta("embedops_encoder_embeddings_total")).toBe(3);
      expect(delta("embedops_encoder_rejected_total", 'reason="invalid"')).toBe(1);
      expect(delta("embedops_encoder_request_duration_seconds_count", 'route="/embed",status="200"')).toBe(1);
    });
  });
});

describe("encoder server under overload (--max-concurrent-requests 2)", () => {
  let enc: EncoderProcess;
  beforeAll(async () => {
    enc = await startEncoderProcess(["--max-concurrent-requests", "2"]);
  });
  afterAll(async () => {
    await enc?.stop();
  });

  it("when 50 requests arrive at once, then some get 429 with Retry-After, the rest 200, none 5xx", async () => {
    const inputs = Array.from({ length: 8 }, (_, i) => `${i} ${LONG.slice(0, 400)}`);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => postJson(`${enc.url}/v1/embeddings`, { input: inputs })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(statuses).toContain(200);
    for (const r of refused) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(r.json).toMatchObject({ error: { type: "rate_limit_error", code: "rate_limit_exceeded" } });
    }
  });
});

describe("encoder server with bearer auth", () => {
  let enc: EncoderProcess;
  beforeAll(async () => {
    enc = await startEncoderProcess([], { EMBEDOPS_API_KEYS: "key-one,key-two" });
  });
  afterAll(async () => {
    await enc?.stop();
  });

  it("when no token or a wrong token is sent, then 401 JSON", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer key-three" },
      { authorization: "Basic a2V5LW9uZQ==" },
    ];
    for (const headers of attempts) {
      const r = await postJson(`${enc.url}/embed`, { inputs: "a" }, headers);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ error_type: "Validation" });
    }
    const info = await fetch(`${enc.url}/info`);
    expect(info.status).toBe(401);
    expect(await info.json()).toMatchObject({ error: { code: "invalid_api_key" } });
  });

  it("when a configured token is sent, then the request is served, also through the openai client", async () => {
    const r = await postJson(`${enc.url}/embed`, { inputs: "a" }, { authorization: "Bearer key-two" });
    expect(r.status).toBe(200);
    const client = new OpenAI({ baseURL: `${enc.url}/v1`, apiKey: "key-one", maxRetries: 0 });
    expect((await client.embeddings.create({ model: "m", input: "a" })).data).toHaveLength(1);
  });

  it("when probes and metrics are read without a token, then they answer", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"])
      expect((await fetch(`${enc.url}${path}`)).status).toBe(200);
  });
});

describe("encoder server shutdown", () => {
  it("when SIGTERM arrives with requests queued, then every request is answered 200 and the exit code is 0", async () => {
    // Small batches keep every request in flight for several batches, so there is a moment to see
    // all of them admitted with work still queued.
    const enc = await startEncoderProcess(["--max-batch-requests", "4"]);
    try {
      const inputs = Array.from({ length: 16 }, (_, i) => `${i} ${LONG.slice(0, 200)}`);
      const pending = Array.from({ length: 8 }, () => postJson(`${enc.url}/embed`, { inputs }));
      // Signal only once all 8 are admitted (in flight or answered: a connection still in the accept
      // backlog when the listener closes is refused, which is what "stop accepting" means) and some
      // inputs are still queued.
      let admitted = 0;
      let queued = 0;
      for (let i = 0; i < 500 && (admitted < 8 || queued === 0); i++) {
        const text = await (await fetch(`${enc.url}/metrics`)).text();
        admitted =
          metricValue(text, "embedops_encoder_requests_in_flight") +
          metricValue(text, "embedops_encoder_request_duration_seconds_count", 'route="/embed"');
        queued = metricValue(text, "embedops_encoder_queue_depth");
      }
      expect(admitted).toBe(8);
      expect(queued).toBeGreaterThan(0);
      enc.child.kill("SIGTERM");
      const results = await Promise.all(pending);
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(await enc.exited).toBe(0);
    } finally {
      if (enc.child.exitCode === null) enc.child.kill("SIGKILL");
    }
  });
});
