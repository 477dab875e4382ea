import { describe, expect, it } from "vitest";
import { exitReason, keepTail, worthRestarting } from "../../../src/local/child-exit.js";

describe("exitReason", () => {
  const usage =
    'embedops: data dir /d is held by another shard process, pid 41 (shard "docs/g-1/shard-0", started t)';
  const errorLog = JSON.stringify({
    level: "error",
    msg: "cannot load the model",
    err: { message: "no model.onnx in /m", stack: "..." },
  });
  const warnLog = JSON.stringify({ level: "warn", msg: "checkpoint unusable" });
  const cases: { when: string; tail: string[]; reason: string | undefined }[] = [
    { when: "the child printed a usage error", tail: [warnLog, usage], reason: usage.slice(10) },
    {
      when: "the child logged an error with an err field",
      tail: [errorLog, warnLog],
      reason: "cannot load the model: no model.onnx in /m",
    },
    {
      when: "the error log has no err",
      tail: [JSON.stringify({ level: "error", msg: "fatal" })],
      reason: "fatal",
    },
    { when: "the last of several reasons wins", tail: [errorLog, usage], reason: usage.slice(10) },
    {
      when: "it said only warnings and stray text",
      tail: [warnLog, "Segmentation fault", "{not json"],
      reason: undefined,
    },
    { when: "it said nothing", tail: [], reason: undefined },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then the reason is ${JSON.stringify(c.reason)}`, () => {
      expect(exitReason(c.tail)).toBe(c.reason);
    });
  }
});

describe("keepTail", () => {
  it("when more lines than the limit arrive, then only the last ones are kept, in order", () => {
    let tail: string[] = [];
    for (const line of ["a", "b", "c", "d"]) tail = keepTail(tail, line, 3);
    expect(tail).toEqual(["b", "c", "d"]);
  });
});

describe("worthRestarting", () => {
  const cases: { code: number | null; restart: boolean }[] = [
    { code: 2, restart: false },
    { code: 1, restart: true },
    { code: 0, restart: true },
    { code: null, restart: true },
  ];
  for (const c of cases) {
    it(`when a child exits with code ${c.code}, then restarting it is ${c.restart ? "" : "not "}worth it`, () => {
      expect(worthRestarting(c.code)).toBe(c.restart);
    });
  }
});
