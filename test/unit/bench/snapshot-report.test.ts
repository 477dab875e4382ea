import { describe, expect, it } from "vitest";
import {
  mbPerSecond,
  PATH_TARGET_RATIO,
  pathTarget,
  phaseLine,
  renderMarkdown,
  type SnapshotBenchReport,
  type StepMeasure,
  stepRows,
} from "../../../bench/snapshot/report.js";

const cp = { bytes: 800e6, seconds: 2 }; // 400 MB/s

const steps = (snapshotS: number, restoreS: number): StepMeasure[] => [
  { step: "snapshot", store: "path", bytes: 800e6, seconds: snapshotS, files: 4 },
  { step: "restore", store: "path", bytes: 800e6, seconds: restoreS, files: 4 },
  { step: "snapshot", store: "s3", bytes: 800e6, seconds: 10, files: 4 },
  { step: "restore", store: "s3", bytes: 800e6, seconds: 20, files: 4 },
];

describe("mbPerSecond", () => {
  it("when bytes and seconds are given, then it is decimal megabytes per second", () => {
    expect(mbPerSecond({ bytes: 5e6, seconds: 2 })).toBe(2.5);
  });
  it("when the duration is zero, then it is NaN rather than Infinity", () => {
    expect(mbPerSecond({ bytes: 5e6, seconds: 0 })).toBeNaN();
  });
});

describe("stepRows", () => {
  it("when steps are measured next to cp, then each row carries its MB/s and its ratio to cp's", () => {
    const rows = stepRows(steps(4, 1), cp);
    expect(rows.map((r) => r.mbPerSecond)).toEqual([200, 800, 80, 40]);
    expect(rows.map((r) => r.vsCp)).toEqual([0.5, 2, 0.2, 0.1]);
    expect(rows[0]).toMatchObject({ step: "snapshot", store: "path", files: 4 });
  });
});

describe("pathTarget", () => {
  it("when both path-store steps reach exactly half of cp, then the target is met (S3 does not count)", () => {
    const v = pathTarget(stepRows(steps(4, 4), cp));
    expect(v).toMatchObject({ snapshotRatio: 0.5, restoreRatio: 0.5, target: PATH_TARGET_RATIO, met: true });
    expect(v.text).toMatch(/^met: snapshot 50 % and restore 50 %/);
  });
  it("when only restore is below half, then it is not met and the text names restore only", () => {
    const v = pathTarget(stepRows(steps(2, 5), cp));
    expect(v.met).toBe(false);
    expect(v.text).toBe("not met: restore 40 % of cp's throughput, below 50 %");
  });
  it("when a path step is missing, then the target is not met", () => {
    const rows = stepRows(steps(2, 2), cp).filter((r) => r.step !== "restore" || r.store !== "path");
    const v = pathTarget(rows);
    expect(v.met).toBe(false);
    expect(v.text).toContain("restore n/a");
  });
});

describe("renderMarkdown", () => {
  it("when a report is rendered, then the table has cp as the peer, every step with its ratio, and the verdict", () => {
    const rows = stepRows(steps(4, 1), cp);
    const report: SnapshotBenchReport = {
      date: "2026-12-02T13:00:00.000Z",
      commit: "abc1234",
      machine: { nproc: 2, cpuModel: "test cpu", loadAverage: [1, 2, 3] },
      vectors: 200_000,
      dimension: 384,
      shards: 2,
      hnsw: { m: 16, efConstruction: 200 },
      ingest: { seconds: 100, vectorsPerSecond: 2000 },
      cp: { ...cp, mbPerSecond: 400, files: 6 },
      cpSync: { bytes: 800e6, seconds: 4, mbPerSecond: 200 },
      steps: rows,
      target: pathTarget(rows),
      notes: ["a note"],
    };
    const md = renderMarkdown(report);
    expect(md).toContain("| cp -r (peer) | 800 | 2.00 | 400 | 1.00 |");
    expect(md).toContain("| cp -r + sync | 800 | 4.00 | 200 | 0.50 |");
    expect(md).toContain("| snapshot → path | 800 | 4.00 | 200 | 0.50 |");
    expect(md).toContain("| restore ← s3 | 800 | 20.0 | 40.0 | 0.10 |");
    expect(md).toContain("200,000 random unit vectors × 384");
    expect(md).toContain("met: snapshot 50 % and restore 200 %");
    expect(md).toContain("- a note");
    expect(md).not.toContain("Where the time goes");
  });

  it("when steps carry phases, then each is listed with its parts after the verdict", () => {
    const rows = stepRows(steps(4, 1), cp);
    rows[0] = {
      ...(rows[0] as (typeof rows)[number]),
      phases: [
        { name: "shard copy", seconds: 3 },
        { name: "into the store", seconds: 0.5 },
      ],
    };
    const report: SnapshotBenchReport = {
      date: "2026-12-02T13:00:00.000Z",
      commit: "abc1234",
      machine: { nproc: 2, cpuModel: "test cpu", loadAverage: [1, 2, 3] },
      vectors: 200_000,
      dimension: 384,
      shards: 2,
      hnsw: { m: 16, efConstruction: 200 },
      ingest: { seconds: 100, vectorsPerSecond: 2000 },
      cp: { ...cp, mbPerSecond: 400, files: 6 },
      cpSync: { bytes: 800e6, seconds: 4, mbPerSecond: 200 },
      steps: rows,
      target: pathTarget(rows),
      notes: [],
    };
    const md = renderMarkdown(report);
    expect(md).toContain("Where the time goes");
    expect(md).toContain("- snapshot → path, 4.00 s: shard copy 3.00 s, into the store 0.50 s");
  });
});

describe("phaseLine", () => {
  it("when a step has no phases, then there is no line", () => {
    expect(phaseLine({ step: "restore", store: "s3", bytes: 1, seconds: 1, files: 1 })).toBeUndefined();
  });
});
