// The IndexSnapshot controller's decision and the status a run writes, as tables.
import { describe, expect, it } from "vitest";
import { deletionDecision, snapshotDecision } from "../../../controllers/index-snapshot/decision.js";
import {
  humanBytes,
  orphanedRuns,
  RUNNER_ANNOTATION,
  retentionCandidatesOf,
  runStatus,
  SCHEDULED,
  TRIGGER_LABEL,
} from "../../../controllers/index-snapshot/run-status.js";
import type { ShardManifest } from "../../../src/snapshot/manifest.js";

const NOW = "2026-01-01T00:00:00Z";
const base = { generation: 1, previous: undefined, now: NOW, indexName: "docs" };
const ready = (s: { conditions?: { type: string; status: string; reason: string }[] } | undefined) =>
  s?.conditions?.find((c) => c.type === "Ready");

describe("snapshotDecision", () => {
  it.each([
    {
      name: "an invalid spec",
      o: { invalidSpec: "spec.indexRef.name: required" },
      phase: "Failed",
      reason: "InvalidSpec",
      job: false,
    },
    {
      name: "a missing index",
      o: { indexFound: false },
      phase: "Pending",
      reason: "IndexNotFound",
      job: false,
    },
    {
      name: "an index without spec.snapshot",
      o: { indexFound: true, hasStore: false },
      phase: "Pending",
      reason: "NoStore",
      job: false,
    },
    {
      name: "an index with a store and no Job yet",
      o: { indexFound: true, hasStore: true },
      phase: "Pending",
      reason: "WaitingForJob",
      job: true,
    },
    {
      name: "its Job exists and runs",
      o: { indexFound: true, hasStore: true, job: {} },
      phase: "Pending",
      reason: "WaitingForJob",
      job: false,
    },
    {
      name: "its Job failed before the runner took the object",
      o: {
        indexFound: true,
        hasStore: true,
        job: {
          failed: { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" },
        },
      },
      phase: "Failed",
      reason: "JobFailed",
      job: false,
    },
    {
      name: "a runner drives it and its Job failed without an end",
      o: {
        indexFound: true,
        hasStore: true,
        runner: "pod-1",
        job: { failed: { reason: "DeadlineExceeded", message: "x" } },
      },
      phase: "Failed",
      reason: "JobFailed",
      job: false,
    },
  ])(
    "when $name, then phase $phase with Ready reason $reason, and a Job is created: $job",
    ({ o, phase, reason, job }) => {
      const d = snapshotDecision({ ...base, ...o });
      expect(d.status?.phase).toBe(phase);
      expect(ready(d.status)).toMatchObject({ status: "False", reason });
      expect(d.createJob).toBe(job);
    },
  );

  it("when the Job failed, then the message carries the Job's reason", () => {
    const d = snapshotDecision({
      ...base,
      indexFound: true,
      hasStore: true,
      job: {
        failed: { reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" },
      },
    });
    expect(ready(d.status) as { message?: string }).toMatchObject({
      message: expect.stringContaining("BackoffLimitExceeded"),
    });
  });

  it.each([
    { name: "a runner drives it (the CronJob's pod)", o: { runner: "docs-snapshot-29400000-abcde" } },
    { name: "it already Succeeded", o: { previous: { phase: "Succeeded" as const } } },
    { name: "it already Failed, even with its Job gone", o: { previous: { phase: "Failed" as const } } },
  ])("when $name, then the operator writes nothing and starts no Job", ({ o }) => {
    expect(snapshotDecision({ ...base, indexFound: true, hasStore: true, ...o })).toEqual({
      createJob: false,
    });
  });
});

const shard = (n: number, vectors: number): ShardManifest => ({
  formatVersion: 1,
  index: "docs",
  generation: "g-1",
  shard: n,
  fingerprint: "f".repeat(64),
  metric: "cosine",
  dimension: 384,
  hnsw: { m: 16, efConstruction: 200 },
  vectorCount: vectors,
  seq: vectors,
  files: [{ name: "shard.db", bytes: 1000, sha256: "a".repeat(64) }],
  createdAt: NOW,
});
const start = {
  generation: "g-1",
  fingerprint: "f".repeat(64),
  startedAt: NOW,
  location: "/snapshots/docs/s1/",
};

describe("runStatus", () => {
  it("when a run succeeds, then status has vectors, bytes, size, per-shard files and the copied generation's parameters", () => {
    const s = runStatus({
      start,
      outcome: { phase: "Succeeded", shards: [shard(0, 3), shard(1, 4)], bytes: 2_500_000 },
      objectGeneration: 1,
      previous: undefined,
      now: NOW,
    });
    expect(s).toMatchObject({
      phase: "Succeeded",
      vectors: 7,
      bytes: 2_500_000,
      size: "2.5 MB",
      metric: "cosine",
      dimension: 384,
      hnsw: { m: 16, efConstruction: 200 },
      location: "/snapshots/docs/s1/",
      completedAt: NOW,
    });
    expect(s.shards?.map((x) => [x.shard, x.vectors, x.files[0]?.sha256])).toEqual([
      [0, 3, "a".repeat(64)],
      [1, 4, "a".repeat(64)],
    ]);
    expect(ready(s)).toMatchObject({ status: "True", reason: "Succeeded" });
  });

  it.each([
    { phase: "Running" as const, ready: "False", reason: "Running", degraded: "False" },
    { phase: "Failed" as const, ready: "False", reason: "SnapshotFailed", degraded: "True" },
  ])("when a run is $phase, then Ready is $ready ($reason) and Degraded $degraded", (t) => {
    const outcome =
      t.phase === "Failed"
        ? { phase: t.phase, error: "no replica of shard 1 made a copy" }
        : { phase: t.phase };
    const s = runStatus({ start, outcome, objectGeneration: 1, previous: undefined, now: NOW });
    expect(s.phase).toBe(t.phase);
    expect(ready(s)).toMatchObject({ status: t.ready, reason: t.reason });
    expect(s.conditions?.find((c) => c.type === "Degraded")?.status).toBe(t.degraded);
    expect(s.vectors).toBeUndefined();
  });

  it("when a run fails, then the error is in the Ready condition's message", () => {
    const s = runStatus({
      start,
      outcome: { phase: "Failed", error: "no replica of shard 1 made a copy (ECONNREFUSED)" },
      objectGeneration: 1,
      previous: undefined,
      now: NOW,
    });
    expect((ready(s) as { message?: string }).message).toContain("ECONNREFUSED");
  });
});

describe("humanBytes", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1.0 kB"],
    [753_200_000, "753.2 MB"],
    [2e12, "2.0 TB"],
  ])("when %d bytes, then %s", (n, want) => {
    expect(humanBytes(n)).toBe(want);
  });
});

describe("retentionCandidatesOf", () => {
  it("when objects are listed, then only scheduled ones not being deleted are candidates, with their times", () => {
    const scheduled = { [TRIGGER_LABEL]: SCHEDULED };
    expect(
      retentionCandidatesOf([
        {
          metadata: { name: "a", labels: scheduled, creationTimestamp: new Date(NOW) },
          status: { phase: "Succeeded", completedAt: NOW },
        },
        { metadata: { name: "b", labels: {}, creationTimestamp: NOW }, status: { phase: "Succeeded" } },
        { metadata: { name: "c", labels: scheduled, creationTimestamp: NOW, deletionTimestamp: NOW } },
        { metadata: { name: "d", labels: scheduled, creationTimestamp: NOW } },
      ]),
    ).toEqual([
      { name: "a", phase: "Succeeded", completedAt: NOW, createdAt: "2026-01-01T00:00:00.000Z" },
      { name: "d", createdAt: NOW },
    ]);
  });
});

describe("deletionDecision", () => {
  const at = "/snapshots/docs/s1/";
  it.each([
    {
      name: "retention already deleted the files",
      o: { storeDeleted: true, location: at },
      action: "release",
      event: undefined,
    },
    { name: "no run ever wrote to the store", o: {}, action: "release", event: undefined },
    {
      name: "the index is gone",
      o: { location: at, indexFound: false },
      action: "release",
      event: "StoreFilesKept",
    },
    {
      name: "the index has no store",
      o: { location: at, hasStore: false },
      action: "release",
      event: "StoreFilesKept",
    },
    { name: "no delete Job yet", o: { location: at }, action: "createJob", event: undefined },
    { name: "the delete Job runs", o: { location: at, job: {} }, action: "wait", event: undefined },
    {
      name: "the delete Job completed",
      o: { location: at, job: { complete: true } },
      action: "release",
      event: "StoreFilesDeleted",
    },
    {
      name: "the delete Job failed",
      o: {
        location: at,
        job: {
          failed: { reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" },
        },
      },
      action: "release",
      event: "StoreFilesKept",
    },
  ])("when $name, then $action (event $event)", ({ o, action, event }) => {
    const d = deletionDecision({ storeDeleted: false, indexFound: true, hasStore: true, ...o });
    expect(d.action).toBe(action);
    expect(d.action === "release" ? d.event?.reason : undefined).toBe(event);
  });
});

describe("orphanedRuns", () => {
  it("when a new scheduled run starts, then scheduled runs still Pending or Running with a runner are orphans; others are not", () => {
    const scheduled = { [TRIGGER_LABEL]: SCHEDULED };
    const runner = { [RUNNER_ANNOTATION]: "pod-1" };
    expect(
      orphanedRuns([
        {
          metadata: { name: "running", labels: scheduled, annotations: runner },
          status: { phase: "Running" },
        },
        { metadata: { name: "taken", labels: scheduled, annotations: runner } },
        {
          metadata: { name: "done", labels: scheduled, annotations: runner },
          status: { phase: "Succeeded" },
        },
        { metadata: { name: "failed", labels: scheduled, annotations: runner }, status: { phase: "Failed" } },
        { metadata: { name: "by-hand", labels: {}, annotations: runner }, status: { phase: "Running" } },
        { metadata: { name: "no-runner", labels: scheduled }, status: { phase: "Pending" } },
        { metadata: { name: "deleting", labels: scheduled, annotations: runner, deletionTimestamp: NOW } },
      ]),
    ).toEqual(["running", "taken"]);
  });
});

describe("runStatus before the run knew its generation", () => {
  it("when a run fails before it read the index, then generation, fingerprint and location stay unset (the schema refuses empty strings)", () => {
    const s = runStatus({
      start: { generation: "", fingerprint: "", startedAt: NOW, location: "" },
      outcome: { phase: "Failed", error: "VectorIndex docs has no active generation yet" },
      objectGeneration: 1,
      previous: undefined,
      now: NOW,
    });
    expect(s.phase).toBe("Failed");
    expect("generation" in s || "fingerprint" in s || "location" in s).toBe(false);
  });
});
