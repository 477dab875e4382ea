// A key-protected encoder behind the router, all real processes as Pods run them: the router reads
// the key clients must send from --api-key-file and the encoder's key from --encoder-key-file (the
// files the operator mounts from Secrets), and sends the latter as a bearer token.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  errorOf,
  haveModel,
  MODEL_DIR,
  type Role,
  startRole,
  startRouterProcess,
  startShard,
  waitReady,
  writeConfig,
} from "./router-harness.js";

const ENCODER_KEY = "encoder-key-0123456789abcdef";
const CLIENT_KEY = "client-key-0123456789abcdef";

describe("router with an encoder key file", () => {
  let dir: string;
  let encoder: Role;
  let shard: Role;
  let withKey: Role;
  let withoutKey: Role;

  const post = (router: Role, path: string, body: unknown, key?: string) =>
    fetch(`${router.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  beforeAll(async () => {
    if (!haveModel())
      throw new Error('no model in models/all-minilm-l6-v2: run "npm run setup:models" first');
    dir = mkdtempSync(join(tmpdir(), "embedops-router-key-"));
    // As a Secret volume holds them: the encoder's file may list several keys, the router sends the first.
    writeFileSync(join(dir, "encoder-keys"), `${ENCODER_KEY}\nolder-encoder-key-0123456789\n`);
    writeFileSync(join(dir, "client-keys"), `${CLIENT_KEY}\n`);
    encoder = await startRole("encoder", [
      "encoder",
      "--model-dir",
      MODEL_DIR,
      "--api-key-file",
      join(dir, "encoder-keys"),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
    ]);
    await waitReady(encoder.url);
    const info = await fetch(`${encoder.url}/info`, { headers: { authorization: `Bearer ${ENCODER_KEY}` } });
    expect(info.status).toBe(200);
    const { fingerprint } = (await info.json()) as { fingerprint: string };
    shard = await startShard(join(dir, "s0"), fingerprint, 384, "s0");
    const configPath = join(dir, "router.json");
    writeConfig(configPath, {
      index: "keyed",
      generation: "g1",
      fingerprint,
      dimension: 384,
      metric: "cosine",
      encoder: { url: encoder.url },
      shards: [{ name: "s0", replicas: [shard.url] }],
      checkIntervalMs: 200,
    });
    withKey = await startRouterProcess(configPath, [
      "--encoder-key-file",
      join(dir, "encoder-keys"),
      "--api-key-file",
      join(dir, "client-keys"),
    ]);
    withoutKey = await startRouterProcess(configPath, [], "router-no-key");
  });

  afterAll(async () => {
    await Promise.all([withKey, withoutKey, shard, encoder].filter(Boolean).map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("when the router holds the encoder's key, then it is ready and embeds text for ingest and query", async () => {
    await waitReady(withKey.url, 30_000);
    const ingest = await post(
      withKey,
      "/v1/documents",
      {
        documents: [
          { id: "cat", text: "a small domesticated feline" },
          { id: "car", text: "a motor vehicle" },
        ],
      },
      CLIENT_KEY,
    );
    expect(ingest.status, JSON.stringify(ingest.body)).toBe(200);
    const query = await post(withKey, "/v1/query", { text: "kitten", k: 1 }, CLIENT_KEY);
    expect(query.status, JSON.stringify(query.body)).toBe(200);
    expect((query.body.results as { id: string }[])[0]?.id).toBe("cat");
  });

  it("when a client sends no key to a router started with --api-key-file, then it gets 401", async () => {
    const query = await post(withKey, "/v1/query", { text: "kitten", k: 1 });
    expect(query.status).toBe(401);
  });

  it("when the router lacks the encoder's key, then text is refused with the encoder's 401 in the message", async () => {
    const query = await post(withoutKey, "/v1/query", { text: "kitten", k: 1 });
    expect(query.status).toBe(503);
    expect(errorOf({ status: query.status, headers: new Headers(), body: query.body }).message).toContain(
      "401",
    );
  });
});
