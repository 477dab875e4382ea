import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LocalIndex } from "../../../src/local/plan.js";
import {
  generationDataPresent,
  type RestoreRecord,
  readRestoreRecord,
  restoreAtStart,
  restoreStep,
  storesToSearch,
} from "../../../src/local/restore-at-start.js";
import { PathStore } from "../../../src/snapshot/path-store.js";
import { createLogger } from "../../../src/util/log.js";

const record: RestoreRecord = {
  snapshot: "s1",
  sourceIndex: "docs",
  location: "path:/backups/docs/s1/",
  fingerprint: "f".repeat(64),
  documents: 10,
  perShard: [10],
  redistributed: false,
  restoredAt: "2026-12-02T12:00:00.000Z",
};

describe("restoreStep", () => {
  const cases: [string, Parameters<typeof restoreStep>[0], ReturnType<typeof restoreStep>["kind"]][] = [
    ["no spec.restore", { snapshotName: undefined, record: undefined, dataPresent: true }, "none"],
    ["no spec.restore, even with a record", { snapshotName: undefined, record, dataPresent: false }, "none"],
    ["first start, no data", { snapshotName: "s1", record: undefined, dataPresent: false }, "restore"],
    ["restored before, data written since", { snapshotName: "s1", record, dataPresent: true }, "restored"],
    [
      "restored before, data dir since removed",
      { snapshotName: "s1", record, dataPresent: false },
      "restored",
    ],
    ["data no restore wrote", { snapshotName: "s1", record: undefined, dataPresent: true }, "data-present"],
  ];
  it.each(cases)("when %s, then the step is as expected", (_what, input, kind) => {
    expect(restoreStep(input).kind).toBe(kind);
  });
});

const index = (name: string, claim?: string, restore?: string): LocalIndex =>
  ({
    name,
    shards: ["shard-0"],
    replicas: 1,
    ...(claim ? { snapshot: { retain: 7, store: { pvc: { claimName: claim } } } } : {}),
    ...(restore ? { restore: { snapshotName: restore } } : {}),
  }) as unknown as LocalIndex; // only name, shards, replicas, snapshot and restore are read

describe("storesToSearch", () => {
  it("when several indexes name stores, then the restoring index's own comes first and each store once", () => {
    const all = [index("a", "shared"), index("b", "other"), index("copy", "shared", "s1"), index("c")];
    expect(storesToSearch(all[2]!, all).map((s) => [s.owner, s.store.pvc?.claimName])).toEqual([
      ["copy", "shared"],
      ["b", "other"],
    ]);
  });

  it("when no index names a store, then there is nothing to search", () => {
    expect(storesToSearch(index("copy", undefined, "s1"), [index("a")])).toEqual([]);
  });
});

describe("restoreAtStart against a real path store", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const ref = { generation: "g-abc", fingerprint: "a".repeat(64) };
  const io = (dataDir: string, storeDir: string) => ({
    dataDir,
    log: createLogger({ test: "restore-at-start" }),
    now: () => new Date("2026-12-02T12:00:00Z"),
    openStore: async () => ({ store: new PathStore(storeDir), prefix: "" }),
  });

  it("when the snapshot is not in the store, then the error names the snapshot, where it looked and how to list", async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-restore-at-start-"));
    mkdirSync(join(dir, "store"));
    const copy = index("copy", "backups", "s9");
    await expect(
      restoreAtStart(copy, [copy], ref, io(join(dir, "data"), join(dir, "store"))),
    ).rejects.toThrow(/no snapshot "s9" in .*store\/; list them with "embedops snapshot list/);
  });

  it("when only an interrupted copy of that name exists, then it is refused as incomplete", async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-restore-at-start-"));
    const store = new PathStore(join(dir, "store"));
    mkdirSync(join(dir, "store"));
    await store.putJson("docs/s1/shard-0/manifest.json", {});
    const copy = index("copy", "backups", "s1");
    await expect(
      restoreAtStart(copy, [copy], ref, io(join(dir, "data"), join(dir, "store"))),
    ).rejects.toThrow(/snapshot "s1" is incomplete .*docs\/s1\//);
  });

  it("when the index's data dir holds files no restore wrote, then nothing is restored over them", async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-restore-at-start-"));
    const dataDir = join(dir, "data");
    const copy = index("copy", "backups", "s1");
    const shardDir = join(dataDir, "indexes", "copy", ref.generation, "shard-0", "replica-0");
    mkdirSync(shardDir, { recursive: true });
    expect(generationDataPresent(dataDir, copy, ref.generation)).toBe(false);
    writeFileSync(join(shardDir, "shard.db"), "written by serve");
    expect(generationDataPresent(dataDir, copy, ref.generation)).toBe(true);
    // No store exists at all: reaching it would throw, so returning proves it was not searched.
    expect(await restoreAtStart(copy, [copy], ref, io(dataDir, join(dir, "missing")))).toBeUndefined();
    expect(readRestoreRecord(dataDir, "copy")).toBeUndefined();
  });
});
