// When spec.snapshot.schedule wants a snapshot: a pure function of the cron schedule, its time zone,
// the last run and the clock, so serve (and later the operator) only ask, run and remember, and the
// decision is tested as a table. Like a CronJob, runs missed while nothing was running collapse into
// one: the latest slot after the last run is due, older ones are not replayed.
import { CronExpressionParser } from "cron-parser";

export interface ScheduleInput {
  /** Five cron fields or a macro (@daily, @hourly, ...), as spec.snapshot.schedule accepts. */
  readonly schedule: string;
  /** IANA time zone of the schedule; default UTC (a CronJob's default is the controller's zone). */
  readonly timeZone?: string | undefined;
  /** When the last run started; slots at or before it are done. */
  readonly lastRun: Date;
  readonly now: Date;
  /**
   * Test-only: slots every N seconds since the epoch instead of the schedule's (dataplane tests
   * cannot wait a minute per run). Never set from a resource.
   */
  readonly everySeconds?: number | undefined;
}

export interface ScheduleDecision {
  /** A slot lies in (lastRun, now]: run now. */
  readonly due: boolean;
  /** The latest slot at or before now, when there is one. */
  readonly slot?: Date;
  /** The first slot after now: when to look again. */
  readonly next: Date;
}

/** Throws saying what is wrong with the schedule or the zone and how to write it. */
export function scheduleDecision(input: ScheduleInput): ScheduleDecision {
  const { now, lastRun } = input;
  if (input.everySeconds !== undefined) {
    const period = input.everySeconds * 1000;
    if (!Number.isFinite(period) || period <= 0)
      throw new Error(`the snapshot period must be a positive number of seconds, got ${input.everySeconds}`);
    const slot = new Date(Math.floor(now.getTime() / period) * period);
    return { due: slot > lastRun, slot, next: new Date(slot.getTime() + period) };
  }
  const tz = input.timeZone ?? "UTC";
  checkTimeZone(tz);
  const at = (currentDate: Date) => {
    try {
      return CronExpressionParser.parse(input.schedule, { currentDate, tz });
    } catch (err) {
      throw new Error(
        `snapshot.schedule ${JSON.stringify(input.schedule)} is not a cron schedule (${(err as Error).message}); ` +
          `write five fields "minute hour day-of-month month day-of-week", e.g. "0 3 * * *", or a macro such as @daily`,
      );
    }
  };
  // prev() is strictly before currentDate; a slot exactly at `now` counts as reached.
  const expr = at(new Date(now.getTime() + 1));
  const slot = expr.hasPrev() ? expr.prev().toDate() : undefined;
  const next = at(now).next().toDate();
  return { due: slot !== undefined && slot > lastRun, ...(slot ? { slot } : {}), next };
}

function checkTimeZone(tz: string): void {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
  } catch {
    throw new Error(
      `snapshot.timeZone ${JSON.stringify(tz)} is not an IANA time zone; use a name such as "Europe/Berlin" or "UTC"`,
    );
  }
}
