import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { LocalIndex } from "../../../src/local/plan.js";
import {
  openServeStore,
  retentionCandidates,
  type SnapshotRun,
  SnapshotScheduler,
  scheduledSnapshotName,
  scheduledSnapshotTime,
} from "../../../src/local/snapshot-scheduler.js";
import { listSnapshots } from "../../../src/snapshot/catalog.js";
import { PathStore } from "../../../src/snapshot/path-store.js";
import { createLogger } from "../../../src/util/log.js";

const NOW = new Date("2026-12-02T12:00:00Z");

describe("scheduled snapshot names", () => {
  it("when a name is made for a time, then the time is read back from it in UTC", () => {
    const name = scheduledSnapshotName("docs", new Date("2026-12-02T09:05:07.900Z"));
    expect(name).toBe("docs-20261202-090507");
    expect(scheduledSnapshotTime("docs", name)?.toISOString()).toBe("2026-12-02T09:05:07.000Z");
  });

  const others: [string, string][] = [
    ["docs", "s-20261202-090507"],
    ["docs", "docs-copy-20261202-090507"],
    ["docs", "docs-20261302-090507"],
    ["docs", "docs-20261202-0905"],
    ["docs-copy", "docs-20261202-090507"],
  ];
  for (const [index, name] of others)
    it(`when the name is ${name} and the index ${index}, then it is not a scheduled snapshot`, () => {
      expect(scheduledSnapshotTime(index, name)).toBeUndefined();
    });
});

describe("retentionCandidates", () => {
  it("when the store lists scheduled, hand-made and incomplete snapshots, then only the scheduled ones count, incomplete as Failed at their name's time", () => {
    expect(
      retentionCandidates("docs", [
        { snapshot: "docs-20261201-030000", complete: true, manifest: { createdAt: "2026-12-01T03:00:01Z" } },
        { snapshot: "docs-20261202-030000", complete: false },
        { snapshot: "s-20261202-100000", complete: true, manifest: { createdAt: "2026-12-02T10:00:00Z" } },
      ]),
    ).toEqual([
      { name: "docs-20261201-030000", phase: "Succeeded", completedAt: "2026-12-01T03:00:01Z" },
      { name: "docs-20261202-030000", phase: "Failed", createdAt: "2026-12-02T03:00:00.000Z" },
    ]);
  });
});

describe("SnapshotScheduler.runOnce", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("when the index cannot be reached, then the run is Failed with the reason, counted, and retention still removes a day-old incomplete scheduled snapshot but not a hand-made one", async () => {
    dir = mkdtempSync(join(tmpdir(), "embedops-scheduler-"));
    const policy = { schedule: "0 3 * * *", retain: 2, store: { pvc: { claimName: "snaps" } } };
    const { store } = await openServeStore(dir, "docs", policy.store);
    await store.putJson("docs/docs-20261130-030000/shard-0/manifest.json", {});
    await store.putJson("docs/s-20261130-030000/shard-0/manifest.json", {});
    await store.putJson("docs/docs-20261202-030000/shard-0/manifest.json", {});
    const said: string[] = [];
    const ran: SnapshotRun[] = [];
    const scheduler = new SnapshotScheduler(
      {
        now: () => NOW,
        indexes: () => [],
        active: async () => {
          throw new Error("cannot read router config: ENOENT");
        },
        openStore: (index, s) => openServeStore(dir!, index, s),
        stagingDir: join(dir, "staging"),
        say: (l) => said.push(l),
        ran: (r) => ran.push(r),
      },
      createLogger({ test: "scheduler" }),
      {},
    );
    const run = await scheduler.runOnce("docs", policy);
    expect(run).toMatchObject({
      index: "docs",
      snapshot: "docs-20261202-120000",
      result: "Failed",
      deleted: ["docs-20261130-030000"],
    });
    expect(run.error).toMatch(/ENOENT/);
    expect(ran).toEqual([run]);
    expect(said.join("\n")).toMatch(/vi\/docs {2}snapshot docs-20261202-120000 failed: .*ENOENT/);
    const left = await listSnapshots(new PathStore(join(dir, "snapshots", "snaps")), "", "docs");
    expect(left.map((e) => e.snapshot)).toEqual(["docs-20261202-030000", "s-20261130-030000"]);
  });

  it("when store.s3 is set without credentials in the environment, then the run fails saying which variables to set", async () => {
    const policy = {
      schedule: "0 3 * * *",
      retain: 2,
      store: {
        s3: { endpoint: "http://127.0.0.1:1", bucket: "snaps", prefix: "", secretRef: { name: "s3" } },
      },
    };
    await expect(openServeStore("/nonexistent", "docs", policy.store, {})).rejects.toThrow(
      /set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in serve's environment/,
    );
  });
});

describe("SnapshotScheduler.tick", () => {
  it("when ticks come within one slot and then after the next, then an index with a schedule runs once per slot and one without runs never", async () => {
    const storeDir = mkdtempSync(join(tmpdir(), "embedops-scheduler-tick-"));
    let now = new Date("2026-12-02T12:00:10Z");
    const ran: SnapshotRun[] = [];
    const policy = { schedule: "* * * * *", retain: 2, store: { pvc: { claimName: "snaps" } } };
    const index = (name: string, snapshot?: typeof policy) =>
      ({ name, ...(snapshot ? { snapshot } : {}) }) as unknown as LocalIndex; // only name and snapshot are read
    const scheduler = new SnapshotScheduler(
      {
        now: () => now,
        indexes: () => [index("docs", policy), index("other")],
        active: async () => {
          throw new Error("not served");
        },
        openStore: async () => ({ store: new PathStore(storeDir), prefix: "" }),
        stagingDir: join(storeDir, "staging"),
        say: () => {},
        ran: (r) => ran.push(r),
      },
      createLogger({ test: "scheduler" }),
      {},
    );
    try {
      await scheduler.tick(); // started at 12:00:10: the 12:00 slot is before the start
      now = new Date("2026-12-02T12:00:50Z");
      await scheduler.tick();
      expect(ran.length).toBe(0);
      now = new Date("2026-12-02T12:01:00Z");
      await scheduler.tick();
      now = new Date("2026-12-02T12:01:30Z");
      await scheduler.tick();
      expect(ran.map((r) => r.index)).toEqual(["docs"]);
      now = new Date("2026-12-02T12:05:20Z");
      await scheduler.tick();
      expect(ran.map((r) => r.snapshot)).toEqual(["docs-20261202-120100", "docs-20261202-120520"]);
    } finally {
      await scheduler.stop();
      rmSync(storeDir, { recursive: true, force: true });
    }
  });
});
