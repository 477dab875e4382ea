import { describe, expect, it } from "vitest";
import { scheduleDecision } from "../../../src/snapshot/schedule.js";

const t = (iso: string) => new Date(iso);

describe("scheduleDecision", () => {
  const cases: {
    when: string;
    schedule: string;
    timeZone?: string;
    lastRun: string;
    now: string;
    due: boolean;
    next: string;
    everySeconds?: number;
  }[] = [
    {
      when: "the daily slot has not come yet since the last run",
      schedule: "0 3 * * *",
      lastRun: "2026-12-02T03:00:00Z",
      now: "2026-12-02T12:00:00Z",
      due: false,
      next: "2026-12-03T03:00:00Z",
    },
    {
      when: "the daily slot passed after the last run",
      schedule: "0 3 * * *",
      lastRun: "2026-12-01T03:00:05Z",
      now: "2026-12-02T03:00:30Z",
      due: true,
      next: "2026-12-03T03:00:00Z",
    },
    {
      when: "now is exactly the slot",
      schedule: "0 3 * * *",
      lastRun: "2026-12-01T03:00:00Z",
      now: "2026-12-02T03:00:00Z",
      due: true,
      next: "2026-12-03T03:00:00Z",
    },
    {
      when: "the last run started exactly at the latest slot",
      schedule: "0 3 * * *",
      lastRun: "2026-12-02T03:00:00Z",
      now: "2026-12-02T03:00:00Z",
      due: false,
      next: "2026-12-03T03:00:00Z",
    },
    {
      when: "several slots were missed (serve was down), one run is due",
      schedule: "0 * * * *",
      lastRun: "2026-12-01T00:00:00Z",
      now: "2026-12-02T12:30:00Z",
      due: true,
      next: "2026-12-02T13:00:00Z",
    },
    {
      when: "every minute, within the minute of the last run",
      schedule: "* * * * *",
      lastRun: "2026-12-02T12:00:00.100Z",
      now: "2026-12-02T12:00:59Z",
      due: false,
      next: "2026-12-02T12:01:00Z",
    },
    {
      when: "the schedule is in Europe/Berlin (UTC+1 in winter)",
      schedule: "0 3 * * *",
      timeZone: "Europe/Berlin",
      lastRun: "2026-12-01T02:00:00Z",
      now: "2026-12-02T02:00:00Z",
      due: true,
      next: "2026-12-03T02:00:00Z",
    },
    {
      when: "the Berlin slot of 03:00 is not yet 03:00 UTC",
      schedule: "0 3 * * *",
      timeZone: "Europe/Berlin",
      lastRun: "2026-12-02T02:00:00Z",
      now: "2026-12-02T02:59:00Z",
      due: false,
      next: "2026-12-03T02:00:00Z",
    },
    {
      when: "summer time in Berlin (UTC+2)",
      schedule: "30 1 * * *",
      timeZone: "Europe/Berlin",
      lastRun: "2026-07-01T00:00:00Z",
      now: "2026-07-01T12:00:00Z",
      due: false,
      next: "2026-07-01T23:30:00Z",
    },
    {
      when: "the @daily macro",
      schedule: "@daily",
      lastRun: "2026-12-01T00:00:00Z",
      now: "2026-12-02T00:10:00Z",
      due: true,
      next: "2026-12-03T00:00:00Z",
    },
    {
      when: "a weekday list (Mon,Wed at 06:15) and it is Tuesday",
      schedule: "15 6 * * 1,3",
      lastRun: "2026-11-30T06:15:00Z",
      now: "2026-12-01T10:00:00Z",
      due: false,
      next: "2026-12-02T06:15:00Z",
    },
    {
      when: "the test-only period replaces the schedule and a period boundary passed",
      schedule: "0 3 * * *",
      everySeconds: 20,
      lastRun: "2026-12-02T12:00:15Z",
      now: "2026-12-02T12:00:21Z",
      due: true,
      next: "2026-12-02T12:00:40Z",
    },
    {
      when: "the test-only period has not passed a boundary",
      schedule: "0 3 * * *",
      everySeconds: 20,
      lastRun: "2026-12-02T12:00:20Z",
      now: "2026-12-02T12:00:39Z",
      due: false,
      next: "2026-12-02T12:00:40Z",
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then due is ${c.due} and the next slot is ${c.next}`, () => {
      const d = scheduleDecision({
        schedule: c.schedule,
        timeZone: c.timeZone,
        lastRun: t(c.lastRun),
        now: t(c.now),
        everySeconds: c.everySeconds,
      });
      expect({ due: d.due, next: d.next.toISOString() }).toEqual({
        due: c.due,
        next: t(c.next).toISOString(),
      });
    });
  }

  it("when the schedule has an out-of-range field, then the error names it and shows the form", () => {
    expect(() =>
      scheduleDecision({
        schedule: "61 3 * * *",
        lastRun: t("2026-12-01T00:00:00Z"),
        now: t("2026-12-02T00:00:00Z"),
      }),
    ).toThrow(/snapshot.schedule "61 3 \* \* \*" is not a cron schedule .*e\.g\. "0 3 \* \* \*"/);
  });

  it("when the time zone is unknown, then the error names it and says what to use", () => {
    expect(() =>
      scheduleDecision({
        schedule: "0 3 * * *",
        timeZone: "Mars/Olympus",
        lastRun: t("2026-12-01T00:00:00Z"),
        now: t("2026-12-02T00:00:00Z"),
      }),
    ).toThrow(/snapshot.timeZone "Mars\/Olympus" is not an IANA time zone/);
  });
});
