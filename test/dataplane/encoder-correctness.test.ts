// Our engine (Node tokenizer + onnxruntime + JS pooling) against sentence-transformers on the same
// weights. The reference vectors were computed by scripts/setup-models.sh in its Python venv; for
// bge-small-en-v1.5, whose weights come only as ONNX, a PyTorch BertModel holds the graph's weights.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EncoderEngine } from "../../src/encoder/engine-types.js";
import { loadEngine } from "../../src/encoder/onnx-engine.js";
import { cosine } from "../../src/encoder/pooling.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const MODELS = ["all-minilm-l6-v2", "all-minilm-l6-v2-cls", "all-mpnet-base-v2", "bge-small-en-v1.5"];
const MIN_COSINE = 0.999;
const BATCH = 16;
const SLOW = 300_000;

interface Reference {
  model: string;
  pooling: string;
  maxSequenceLength: number;
  sentencesSha256: string;
  tokenCounts: number[];
  embeddings: number[][];
}

interface LockEntry {
  fingerprint: string;
}

const sentences: string[] = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/sentences.json"), "utf8"));
const lock: { models: Record<string, LockEntry> } = JSON.parse(
  readFileSync(path.join(ROOT, "scripts/models.lock.json"), "utf8"),
);

function show(text: string): string {
  const oneLine = JSON.stringify(text);
  return oneLine.length > 90 ? `${oneLine.slice(0, 87)}...` : oneLine;
}

for (const name of MODELS) {
  describe(`encoder correctness: ${name}`, () => {
    const dir = path.join(ROOT, "models", name);
    const reference: Reference = JSON.parse(
      readFileSync(path.join(ROOT, "test/fixtures/reference-embeddings", `${name}.json`), "utf8"),
    );
    let engine: EncoderEngine;

    beforeAll(async () => {
      // A missing model must fail the suite, not skip it: CI would otherwise pass without checking anything.
      if (!existsSync(path.join(dir, "model.onnx"))) {
        throw new Error(`${dir}/model.onnx is missing: run \`npm run setup:models\` first`);
      }
      engine = await loadEngine(dir, { threads: 2 });
    }, SLOW);

    afterAll(async () => {
      await engine?.close();
    });

    it("when the fixture was made, then it covers the current sentences", () => {
      expect(reference.embeddings).toHaveLength(sentences.length);
      expect(reference.pooling).toBe(engine.config.pooling);
      expect(reference.maxSequenceLength).toBe(engine.config.maxSequenceLength);
    });

    it("when each sentence is tokenized in Node, then its untruncated length equals the reference tokenizer's", () => {
      const mismatches: string[] = [];
      sentences.forEach((s, i) => {
        const ours = engine.tokenize(s).fullLength;
        if (ours !== reference.tokenCounts[i]) {
          mismatches.push(`#${i} ${show(s)}: ours ${ours}, reference ${reference.tokenCounts[i]}`);
        }
      });
      expect(mismatches, mismatches.join("\n")).toEqual([]);
    });

    it("when a sentence is over-length, then it is cut to maxSequenceLength and keeps the final special token", () => {
      const max = engine.config.maxSequenceLength;
      const long = sentences.filter((_, i) => (reference.tokenCounts[i] ?? 0) > max);
      // The fixture must exercise truncation, or this test proves nothing.
      expect(long.length).toBeGreaterThanOrEqual(3);
      const short = engine.tokenize("hello");
      const lastSpecial = short.ids[short.ids.length - 1];
      for (const s of long) {
        const t = engine.tokenize(s);
        expect(t.truncated).toBe(true);
        expect(t.ids).toHaveLength(max);
        expect(t.ids[max - 1]).toBe(lastSpecial);
        expect(t.fullLength).toBeGreaterThan(max);
      }
      expect(short.truncated).toBe(false);
    });

    it(
      "when every fixture sentence is embedded in padded batches, then each has cosine >= 0.999 with the reference",
      async () => {
        const failures: string[] = [];
        let min = 1;
        // Grouped by length as the server batches, so the over-length rows do not pad every batch to
        // maxSequenceLength; rows still differ in length inside a batch, which exercises the mask.
        const rows = sentences.map((s, i) => ({ i, ids: engine.tokenize(s).ids }));
        rows.sort((a, b) => a.ids.length - b.ids.length);
        for (let start = 0; start < rows.length; start += BATCH) {
          const chunk = rows.slice(start, start + BATCH);
          const vectors = await engine.run(chunk.map((r) => r.ids));
          vectors.forEach((v, j) => {
            const i = chunk[j]!.i;
            expect(v).toHaveLength(engine.config.dimension);
            const c = cosine(v, reference.embeddings[i]!);
            min = Math.min(min, c);
            if (!(c >= MIN_COSINE)) failures.push(`#${i} ${show(sentences[i]!)}: cosine ${c.toFixed(6)}`);
          });
        }
        console.log(
          `${name}: min cosine vs sentence-transformers = ${min.toFixed(12)} over ${sentences.length}`,
        );
        expect(failures, `${failures.length} sentences below ${MIN_COSINE}:\n${failures.join("\n")}`).toEqual(
          [],
        );
      },
      SLOW,
    );

    it(
      "when a row runs alone or padded next to a longer one, then its vector is the same",
      async () => {
        const short = engine.tokenize("The cat sat on the mat.").ids;
        const long = engine.tokenize(sentences[sentences.length - 1]!).ids;
        const [alone] = await engine.run([short]);
        const [padded] = await engine.run([short, long]);
        expect(cosine(alone!, padded!)).toBeGreaterThan(0.99999);
      },
      SLOW,
    );

    it("when the fingerprint is computed in Node, then it equals the one setup-models recorded in Python", () => {
      expect(engine.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(engine.fingerprint).toBe(lock.models[name]?.fingerprint);
    });
  });
}

describe("encoder correctness: fingerprints", () => {
  it("when pooling differs on the same weights, then the fingerprints differ", () => {
    const a = lock.models["all-minilm-l6-v2"]?.fingerprint;
    const b = lock.models["all-minilm-l6-v2-cls"]?.fingerprint;
    expect(a).toBeDefined();
    expect(a).not.toBe(b);
  });
});
