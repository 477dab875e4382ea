import { describe, expect, it } from "vitest";
import {
  FAILED_TTL_MS,
  type RetentionCandidate,
  retentionDecision,
} from "../../../src/snapshot/retention.js";

const NOW = Date.parse("2026-12-02T12:00:00Z");
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000).toISOString();
const ok = (name: string, h: number): RetentionCandidate => ({
  name,
  phase: "Succeeded",
  completedAt: hoursAgo(h),
  createdAt: hoursAgo(h + 1),
});

describe("retentionDecision", () => {
  const cases: { when: string; snapshots: RetentionCandidate[]; retain: number; deleted: string[] }[] = [
    { when: "there are no snapshots", snapshots: [], retain: 3, deleted: [] },
    {
      when: "there are fewer Succeeded than retain",
      snapshots: [ok("a", 48), ok("b", 24)],
      retain: 3,
      deleted: [],
    },
    {
      when: "there are exactly retain Succeeded",
      snapshots: [ok("a", 72), ok("b", 48), ok("c", 24)],
      retain: 3,
      deleted: [],
    },
    {
      when: "there are more Succeeded than retain, then the oldest go, oldest first",
      snapshots: [ok("a", 96), ok("b", 72), ok("c", 48), ok("d", 24)],
      retain: 2,
      deleted: ["a", "b"],
    },
    {
      when: "the input is unsorted, then the ages decide, not the order or the names",
      snapshots: [ok("z-old", 96), ok("a-new", 1), ok("m-mid", 48), ok("b-older", 72)],
      retain: 2,
      deleted: ["z-old", "b-older"],
    },
    {
      when: "retain is 0, then every Succeeded is kept (the schema's 'keep all')",
      snapshots: [ok("a", 9000), ok("b", 24)],
      retain: 0,
      deleted: [],
    },
    {
      when: "two Succeeded finished at the same instant at the retain boundary, then the larger name is kept",
      snapshots: [ok("snap-1", 24), ok("snap-2", 24), ok("snap-0", 48)],
      retain: 1,
      deleted: ["snap-0", "snap-1"],
    },
    {
      when: "completedAt is unset, then creationTimestamp orders them",
      snapshots: [
        { name: "old", phase: "Succeeded", createdAt: hoursAgo(50) },
        { name: "new", phase: "Succeeded", createdAt: hoursAgo(2) },
      ],
      retain: 1,
      deleted: ["old"],
    },
    {
      when: "completedAt is set, then it wins over an older-looking creationTimestamp",
      snapshots: [
        { name: "slow", phase: "Succeeded", createdAt: hoursAgo(100), completedAt: hoursAgo(1) },
        { name: "fast", phase: "Succeeded", createdAt: hoursAgo(10), completedAt: hoursAgo(9) },
      ],
      retain: 1,
      deleted: ["fast"],
    },
    {
      when: "a Succeeded has no usable time, then it is kept and takes no retain slot",
      snapshots: [
        { name: "undated", phase: "Succeeded" },
        { name: "garbled", phase: "Succeeded", completedAt: "yesterday" },
        ok("a", 48),
        ok("b", 24),
      ],
      retain: 1,
      deleted: ["a"],
    },
    {
      when: "a Failed is younger than a day, then it stays (its conditions are still worth reading)",
      snapshots: [{ name: "f", phase: "Failed", completedAt: hoursAgo(23) }],
      retain: 1,
      deleted: [],
    },
    {
      when: "a Failed is older than a day, then it goes whatever retain is",
      snapshots: [{ name: "f", phase: "Failed", completedAt: hoursAgo(25) }, ok("a", 1)],
      retain: 0,
      deleted: ["f"],
    },
    {
      when: "a Failed is exactly one day old, then it stays (older than, not as old as)",
      snapshots: [{ name: "f", phase: "Failed", completedAt: new Date(NOW - FAILED_TTL_MS).toISOString() }],
      retain: 1,
      deleted: [],
    },
    {
      when: "a Failed has no time, then it stays",
      snapshots: [{ name: "f", phase: "Failed" }],
      retain: 1,
      deleted: [],
    },
    {
      when: "Failed snapshots do not take retain slots",
      snapshots: [{ name: "f", phase: "Failed", completedAt: hoursAgo(1) }, ok("a", 48), ok("b", 24)],
      retain: 2,
      deleted: [],
    },
    {
      when: "Running, Pending and phase-less snapshots are old, then they are never deleted",
      snapshots: [
        { name: "r", phase: "Running", createdAt: hoursAgo(500) },
        { name: "p", phase: "Pending", createdAt: hoursAgo(500) },
        { name: "new", createdAt: hoursAgo(500) },
        ok("a", 2),
      ],
      retain: 1,
      deleted: [],
    },
    {
      when: "expired Failed and surplus Succeeded mix, then all of them go, oldest first",
      snapshots: [
        ok("s3", 24),
        { name: "f-old", phase: "Failed", createdAt: hoursAgo(200) },
        ok("s1", 72),
        ok("s2", 48),
        { name: "f-mid", phase: "Failed", completedAt: hoursAgo(60) },
      ],
      retain: 1,
      deleted: ["f-old", "s1", "f-mid", "s2"],
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then [${c.deleted.join(", ")}] is deleted`, () => {
      expect(retentionDecision(c.snapshots, c.retain, NOW)).toEqual(c.deleted);
    });
  }

  it("when the same snapshots come in any order, then the decision is the same", () => {
    const snaps = [ok("a", 24), ok("b", 24), ok("c", 24), ok("d", 48), ok("e", 12)];
    const expected = retentionDecision(snaps, 2, NOW);
    expect(expected).toEqual(["d", "a", "b"]);
    for (let i = 0; i < 20; i++) {
      const shuffled = [...snaps].sort(() => Math.random() - 0.5);
      expect(retentionDecision(shuffled, 2, NOW)).toEqual(expected);
    }
  });
});
