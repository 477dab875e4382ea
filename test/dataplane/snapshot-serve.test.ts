// The user's path through `embedops serve`: ingest, `embedops snapshot create`, `embedops snapshot
// restore` into a new index with another shard count, add that index to the file, restart serve:
// the new index answers every question as the old one did. And the declarative way: an index with
// spec.restore is filled from the snapshot at its first start (found in the store its spec names),
// passes spec.quality's recall check, records its source, and a second restart restores nothing
// over the documents written since. Real encoder, shards, routers.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haveModel, MODEL_DIR, ROOT } from "./router-harness.js";
import { cli, killServe, type ServeProcess, spawnServe, waitServeReady } from "./serve-process.js";

const questions = [
  "an illness of children who lack vitamin D and sunlight",
  "a large body of salt water",
  "a musical instrument with strings",
  "a building where books are kept",
  "the study of the stars",
];

describe("snapshot and restore under embedops serve", () => {
  let work: string;
  let dataDir: string;
  let serve: ServeProcess | undefined;
  const before = new Map<string, string[]>();

  async function ask(router: string, text: string): Promise<string[]> {
    const res = await fetch(`${router}/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text, k: 10 }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { results: { id: string }[] }).results.map((r) => r.id);
  }

  beforeAll(async () => {
    if (!haveModel()) throw new Error(`no model in ${MODEL_DIR}: run "npm run setup:models" first`);
    work = mkdtempSync(join(tmpdir(), "embedops-snapshot-serve-"));
    dataDir = join(work, "data");
    const docs = readFileSync(join(ROOT, "examples", "docs.jsonl"), "utf8")
      .split("\n")
      .slice(0, 400);
    writeFileSync(join(work, "docs.jsonl"), `${docs.join("\n")}\n`);
    serve = spawnServe({ dataDir });
    await waitServeReady(serve);
  }, 330_000);

  afterAll(async () => {
    if (serve) await killServe(serve);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("when an ingested index is snapshotted and restored into a new 3-shard index that serve then starts, then it answers every question as the old one did", async () => {
    const ingest = cli(["ingest", join(work, "docs.jsonl"), "--data-dir", dataDir]);
    expect(ingest.status, ingest.stderr).toBe(0);
    const state = JSON.parse(readFileSync(join(dataDir, "serve.json"), "utf8")) as {
      indexes: Record<string, { router: string }>;
    };
    for (const q of questions) before.set(q, await ask(state.indexes.docs!.router, q));

    // serve's view of spec.snapshot.store.pvc {claimName: backups}: <data-dir>/snapshots/backups/.
    mkdirSync(join(dataDir, "snapshots", "backups"), { recursive: true });
    const store = `path:${join(dataDir, "snapshots", "backups")}`;
    const made = cli([
      "snapshot",
      "create",
      "--index",
      "docs",
      "--name",
      "s1",
      "--store",
      store,
      "--data-dir",
      dataDir,
    ]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/snapshot s1 of docs: 2 shards, 400 vectors/);
    const restored = cli([
      ...["snapshot", "restore", "s1", "--index", "docs-copy", "--shards", "3"],
      ...["--store", store, "--data-dir", dataDir],
    ]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/400 documents \(moved by id hash\)/);

    await killServe(serve!);
    const file = join(work, "serve.yaml");
    const copy =
      "---\napiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: docs-copy}\n" +
      "spec: {modelRef: {name: minilm}, metric: cosine, shards: 3, replicas: 1}\n";
    // The golden set: each question and the top-3 the source index answered.
    const golden = questions
      .map((q) => `    ${JSON.stringify({ query: q, relevant: before.get(q)!.slice(0, 3) })}`)
      .join("\n");
    const declared =
      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: golden}\ndata:\n  golden.jsonl: |\n" +
      `${golden}\n` +
      "---\napiVersion: embedops.dev/v1alpha1\nkind: VectorIndex\nmetadata: {name: docs-spec}\n" +
      "spec:\n  modelRef: {name: minilm}\n  metric: cosine\n  shards: 2\n  replicas: 1\n" +
      "  restore: {snapshotName: s1}\n  snapshot: {store: {pvc: {claimName: backups}}}\n" +
      "  quality: {goldenSet: {configMapRef: {name: golden, key: golden.jsonl}}, k: 10, minRecall: 0.9}\n";
    writeFileSync(file, readFileSync(join(ROOT, "examples", "quickstart.yaml"), "utf8") + copy + declared);
    serve = spawnServe({ dataDir, file });
    const next = await waitServeReady(serve);
    for (const q of questions) {
      expect(await ask(next.indexes["docs-copy"]!.router, q), q).toEqual(before.get(q));
      expect(await ask(next.indexes["docs-spec"]!.router, q), q).toEqual(before.get(q));
    }
    expect(await ask(next.indexes.docs!.router, questions[0]!)).toEqual(before.get(questions[0]!));
    expect(next.indexes["docs-spec"]!.restoredFrom).toMatchObject({ snapshot: "s1", documents: 400 });
    const record = JSON.parse(
      readFileSync(join(dataDir, "indexes", "docs-spec", "restored-from.json"), "utf8"),
    ) as { sourceIndex: string; quality?: { pass: boolean; recall?: number } };
    expect(record.sourceIndex).toBe("docs");
    expect(record.quality?.pass, JSON.stringify(record.quality)).toBe(true);
    expect(serve.output()).toMatch(
      /restored from snapshot s1 of docs \(400 documents\); golden-set recall passed/,
    );

    // Written after the restore: a restart must keep it (no second restore over it).
    const extra = join(work, "extra.jsonl");
    writeFileSync(
      extra,
      `${JSON.stringify({ id: "after-restore", text: "a lighthouse keeper's log book" })}\n`,
    );
    const added = cli(["ingest", extra, "--index", "docs-spec", "--data-dir", dataDir]);
    expect(added.status, added.stderr).toBe(0);
    await killServe(serve);
    serve = spawnServe({ dataDir, file });
    const third = await waitServeReady(serve);
    const ids = await ask(third.indexes["docs-spec"]!.router, "a lighthouse keeper's log book");
    expect(ids[0]).toBe("after-restore");
    expect(third.indexes["docs-spec"]!.restoredFrom).toMatchObject({ snapshot: "s1" });
  }, 900_000);
});
