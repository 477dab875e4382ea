import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../../bench/generation/markdown.js";
import {
  type BackfillCase,
  backfillRate,
  binnedP99,
  type GenerationBenchReport,
  guardDecisions,
  type QueryRecord,
  queryWindow,
  ratiosOf,
  sloVerdict,
  summaryLines,
} from "../../../bench/generation/report.js";

const T = Date.parse("2026-12-02T12:00:00.000Z");

/** One query per 100 ms from T, each taking `ms(i)`. */
function steady(
  n: number,
  ms: (i: number) => number,
  ok: (i: number) => boolean = () => true,
): QueryRecord[] {
  return Array.from({ length: n }, (_, i) => ({ sentAt: T + i * 100, ms: ms(i), ok: ok(i) }));
}

describe("queryWindow", () => {
  it("when queries are sent inside and outside the window, then only those sent inside count", () => {
    const w = queryWindow(
      steady(100, (i) => i),
      "w",
      T + 1000,
      T + 1900,
    );
    expect(w.sent).toBe(10);
    expect(w.latency.p50Ms).toBeCloseTo(14.5, 10);
    expect(w.latency.maxMs).toBe(19);
    expect(w.seconds).toBeCloseTo(0.9, 10);
  });

  it("when some queries failed, then they are counted apart and left out of the latency", () => {
    const w = queryWindow(
      steady(
        10,
        (i) => (i === 3 ? 5000 : 10),
        (i) => i !== 3,
      ),
      "w",
      T,
      T + 1000,
    );
    expect(w.failed).toBe(1);
    expect(w.latency.count).toBe(9);
    expect(w.latency.maxMs).toBe(10);
  });
});

describe("binnedP99", () => {
  it("when queries span several bins, then each bin gets its own p99 at its middle", () => {
    const b = binnedP99(
      steady(30, (i) => (i < 10 ? 1 : 50)),
      T,
      1000,
    );
    expect(b.seconds).toEqual([0.5, 1.5, 2.5]);
    expect(b.p99Ms).toEqual([1, 50, 50]);
  });
});

describe("backfillRate", () => {
  it("when the record spans 10 s for 2,000 documents, then the copy loop ran at 200 docs/s and wall adds start-up", () => {
    const r = backfillRate(
      {
        done: 2000,
        startedAt: "2026-12-02T12:00:00.000Z",
        updatedAt: "2026-12-02T12:00:10.000Z",
        finished: true,
      },
      12.5,
    );
    expect(r.loopSeconds).toBe(10);
    expect(r.docsPerSecond).toBe(200);
    expect(r.wallDocsPerSecond).toBe(160);
  });

  it("when the record has no elapsed time, then the rate is NaN, not Infinity", () => {
    const r = backfillRate(
      {
        done: 0,
        startedAt: "2026-12-02T12:00:00.000Z",
        updatedAt: "2026-12-02T12:00:00.000Z",
        finished: true,
      },
      0,
    );
    expect(r.docsPerSecond).toBeNaN();
    expect(r.wallDocsPerSecond).toBeNaN();
  });
});

describe("guardDecisions", () => {
  it("when the backfill log has guard lines among others, then only the rate changes are kept", () => {
    const text = [
      JSON.stringify({ time: "t0", level: "info", msg: "backfill starting" }),
      JSON.stringify({
        time: "t1",
        level: "warn",
        msg: "backfill slows down: the stable's latency is at risk",
        from: 20,
        to: 10,
        reason: "stable p99 90 ms > 80 ms (80% of 100 ms)",
      }),
      "embedops backfill: not json",
      JSON.stringify({
        time: "t2",
        level: "info",
        msg: "backfill speeds up",
        from: 10,
        to: 12,
        reason: "calm",
      }),
      "{ broken",
    ].join("\n");
    expect(guardDecisions(text)).toEqual([
      {
        time: "t1",
        action: "decrease",
        from: 20,
        to: 10,
        reason: "stable p99 90 ms > 80 ms (80% of 100 ms)",
      },
      { time: "t2", action: "increase", from: 10, to: 12, reason: "calm" },
    ]);
  });
});

describe("sloVerdict", () => {
  const w = (ms: number, failed = (_: number) => false) =>
    queryWindow(
      steady(
        100,
        () => ms,
        (i) => !failed(i),
      ),
      "w",
      T,
      T + 10_000,
    );

  it("when p99 is at the SLO and nothing failed, then it held", () => {
    expect(sloVerdict(w(100), 100)).toMatchObject({ held: true, p99Ms: 100 });
  });

  it("when p99 is above the SLO, then it is broken", () => {
    const v = sloVerdict(w(101), 100);
    expect(v.held).toBe(false);
    expect(v.text).toContain("> 100 ms");
  });

  it("when a query failed under a fine p99, then it is broken and says how many failed", () => {
    const v = sloVerdict(
      w(5, (i) => i === 0),
      100,
    );
    expect(v.held).toBe(false);
    expect(v.text).toContain("1 of 100 failed");
  });

  it("when no query was answered, then it is not measured", () => {
    const v = sloVerdict(
      w(5, () => true),
      100,
    );
    expect(v.held).toBe(false);
    expect(v.text).toContain("not measured");
  });
});

function backfillCase(label: string, docsPerSecond: number, p99: number | undefined): BackfillCase {
  const c: BackfillCase = {
    label,
    maxDocumentsPerSecond: 100_000,
    withQueries: p99 !== undefined,
    exitCode: 0,
    stoppedAtLimit: false,
    rate: {
      done: 2000,
      finished: true,
      loopSeconds: 2000 / docsPerSecond,
      docsPerSecond,
      wallSeconds: 2000 / docsPerSecond + 1,
      wallDocsPerSecond: 2000 / (2000 / docsPerSecond + 1),
    },
    guard: [],
  };
  if (p99 !== undefined) {
    c.window = queryWindow(
      steady(100, () => p99),
      `during: ${label}`,
      T,
      T + 10_000,
    );
    c.slo = sloVerdict(c.window, 100);
  }
  return c;
}

function report(): GenerationBenchReport {
  const capacity = { docs: 2000, batchSize: 64, requests: 32, seconds: 10, docsPerSecond: 200 };
  const backfills = {
    quiet: backfillCase("unthrottled, no queries", 150, undefined),
    unthrottled: backfillCase("unthrottled", 120, 240),
    throttled: backfillCase("throttled", 20, 40),
  };
  const windows = {
    before: queryWindow(
      steady(100, () => 20),
      "before",
      T,
      T + 10_000,
    ),
    after: queryWindow(
      steady(100, () => 30),
      "after",
      T,
      T + 10_000,
    ),
  };
  const machine = {
    nproc: 2,
    cpuModel: "test cpu",
    cpuFlags: [],
    memoryGiB: 8,
    freeMemoryGiB: 4,
    loadAverage: [1, 1, 1] as [number, number, number],
    node: "v20",
    platform: "linux-x64",
  };
  return {
    startedAt: "2026-12-02T12:00:00.000Z",
    finishedAt: "2026-12-02T12:05:00.000Z",
    machine: { start: machine, loadAverageEnd: [2, 1, 1] },
    versions: { embedops: "0.1.0", node: "v20" },
    settings: {
      docs: 2000,
      batchSize: 64,
      queryRatePerSecond: 10,
      k: 10,
      sloP99Ms: 100,
      throttleDocsPerSecond: 20,
      guardIntervalSeconds: 5,
      beforeSeconds: 30,
      afterSeconds: 20,
      throttledMaxSeconds: 90,
      encoderThreads: 2,
      stable: { model: "all-minilm-l6-v2", fingerprint: "a".repeat(64), shards: 2 },
      candidate: { model: "bge-small-en-v1.5", fingerprint: "b".repeat(64), shards: 2 },
    },
    stableEncoderFill: { ...capacity, docsPerSecond: 400 },
    encoderCapacity: capacity,
    backfills,
    windows,
    ratios: ratiosOf(capacity, backfills, windows),
    timeline: { t0: T, binSeconds: 5, phases: [] },
    notes: [],
  };
}

describe("ratiosOf", () => {
  it("when the backfill and the encoder alone were measured, then the ratios divide each by its peer", () => {
    const r = report().ratios;
    expect(r.backfillOverEncoder).toBeCloseTo(0.75, 10);
    expect(r.loadedBackfillOverEncoder).toBeCloseTo(0.6, 10);
    expect(r.p99UnthrottledOverBefore).toBeCloseTo(12, 10);
    expect(r.p99ThrottledOverBefore).toBeCloseTo(2, 10);
    expect(r.p99AfterOverBefore).toBeCloseTo(1.5, 10);
  });

  it("when a backfill had no query window, then its p99 ratio is NaN", () => {
    const r = report();
    delete r.backfills.throttled.window;
    expect(ratiosOf(r.encoderCapacity, r.backfills, r.windows).p99ThrottledOverBefore).toBeNaN();
  });
});

describe("the printed summary and the markdown", () => {
  it("when rendered, then they name the ratios and each SLO verdict", () => {
    const r = report();
    const lines = summaryLines(r).join("\n");
    expect(lines).toContain("150 docs/s / candidate encoder alone 200 docs/s = 0.75");
    expect(lines).toContain("240 ms = 12.0 × before");
    expect(lines).toContain("p99 240 ms > 100 ms: broken");
    expect(lines).toContain("p99 40.0 ms ≤ 100 ms: held");
    const md = renderMarkdown(r);
    expect(md).toContain("**Backfill / encoder alone: 0.75**");
    expect(md).toContain("The latency guard changed no rate");
    expect(md).toContain("![throughput; stable query p99 over time](generation.png)");
  });
});
