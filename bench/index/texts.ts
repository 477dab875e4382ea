// Texts through the whole write path: router POST /v1/documents → the real MiniLM encoder server →
// binary upsert to the shards. A smaller sample than the vector ingest: it is bound by inference.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Cluster, routerConfig } from "./cluster.js";
import type { VectorSet } from "./datasets.js";
import { defaultModelDir } from "./embed-cache.js";
import { request } from "./http.js";
import { startProc } from "./procs.js";
import { loadWordnetTexts } from "./text-corpus.js";

const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "embedops.mjs");

export interface TextIngest {
  texts: number;
  seconds: number;
  textsPerSecond: number;
  batch: number;
  concurrency: number;
  encoderThreads: string;
}

export async function ingestTexts(
  set: VectorSet,
  c: Cluster,
  sample: number,
  log: (m: string) => void,
): Promise<TextIngest> {
  // Texts past the embedded corpus: not in the index yet, so every one is a real insert.
  const texts = loadWordnetTexts().slice(-sample);
  const encoder = await startProc("encoder", process.execPath, [
    bin,
    "encoder",
    "--model-dir",
    defaultModelDir,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ]);
  const configPath = join(c.dataDir, "router-texts.json");
  writeFileSync(
    configPath,
    JSON.stringify(
      routerConfig(
        set,
        c.fingerprint,
        c.shards.map((s) => s.url),
        encoder.url,
      ),
    ),
  );
  const router = await startProc("router-texts", process.execPath, [
    bin,
    "router",
    "--config",
    configPath,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
  ]);
  const batch = 32;
  const concurrency = 4;
  try {
    for (let i = 0; i < 100; i++) {
      const r = await request(`${router.url}/readyz`).catch(() => undefined);
      if (r?.status === 200) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < texts.length) {
          const at = next;
          next += batch;
          const documents = texts.slice(at, at + batch).map((text, j) => ({ id: `t${at + j}`, text }));
          const res = await request(`${router.url}/v1/documents`, {
            method: "POST",
            body: JSON.stringify({ documents }),
          });
          if (res.status !== 200)
            throw new Error(`POST /v1/documents: ${res.status} ${res.body.slice(0, 300)}`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    log(`${set.name} (b) text ingest: ${texts.length} texts in ${seconds.toFixed(1)} s`);
    return {
      texts: texts.length,
      seconds,
      textsPerSecond: texts.length / seconds,
      batch,
      concurrency,
      encoderThreads: "encoder default",
    };
  } finally {
    await router.stop();
    await encoder.stop();
  }
}
