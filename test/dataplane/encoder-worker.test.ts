// The engine runs onnxruntime in a worker thread: the caller's event loop keeps turning while a batch
// runs, and a batch that onnxruntime refuses fails alone. Real model, real onnxruntime, real worker.
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EncoderEngine } from "../../src/encoder/engine-types.js";
import { loadEngine } from "../../src/encoder/onnx-engine.js";
import { MODEL_DIR, requireModel } from "./encoder-server-harness.js";

// all-MiniLM-L6-v2's vocabulary has 30522 entries; this id is outside it, so the embedding Gather fails.
const OUT_OF_VOCABULARY = 1_000_000;

describe("encoder engine in a worker thread", () => {
  let engine: EncoderEngine;
  beforeAll(async () => {
    requireModel();
    engine = await loadEngine(MODEL_DIR, { threads: 1 });
  });
  afterAll(async () => {
    await engine?.close();
  });

  it("when a batch runs, then the calling thread's event loop keeps turning until it is done", async () => {
    const row = engine.tokenize("the quick brown fox jumps over the lazy dog ".repeat(10)).ids;
    let turns = 0;
    let done = false;
    const spin = () => {
      if (done) return;
      turns++;
      setImmediate(spin);
    };
    const pending = engine.run(Array.from({ length: 8 }, () => row));
    setImmediate(spin);
    const vectors = await pending;
    done = true;
    expect(vectors).toHaveLength(8);
    // On the main thread, session.run would hold the loop for the whole batch: zero turns.
    expect(turns).toBeGreaterThan(0);
  });

  it("when onnxruntime refuses a batch, then that batch rejects with its reason and the next is served", async () => {
    const good = engine.tokenize("a sentence").ids;
    const bad = [good[0]!, OUT_OF_VOCABULARY, good[good.length - 1]!];
    await expect(engine.run([good, bad])).rejects.toThrow(/inference failed: .*(out of|bounds|range)/i);
    const vectors = await engine.run([good]);
    expect(vectors).toHaveLength(1);
    expect(vectors[0]).toHaveLength(384);
  });

  it("when batches are sent back to back, then each caller gets its own rows in order", async () => {
    const a = ["alpha", "a longer sentence about beta", "gamma"].map((t) => engine.tokenize(t).ids);
    const b = [engine.tokenize("delta").ids];
    const aloneA = await engine.run(a);
    const aloneB = await engine.run(b);
    const [togetherA, togetherB] = await Promise.all([engine.run(a), engine.run(b)]);
    expect(togetherA.map((v) => Array.from(v))).toEqual(aloneA.map((v) => Array.from(v)));
    expect(togetherB.map((v) => Array.from(v))).toEqual(aloneB.map((v) => Array.from(v)));
  });

  it("when the model file is not an ONNX graph, then loading fails naming the file and the fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "embedops-bad-model-"));
    try {
      await cp(MODEL_DIR, dir, { recursive: true, filter: (src) => !src.endsWith("model.onnx") });
      await writeFile(join(dir, "model.onnx"), "not an onnx graph");
      await expect(loadEngine(dir, { threads: 1 })).rejects.toThrow(
        /cannot load .*model\.onnx into onnxruntime.*setup:models/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
