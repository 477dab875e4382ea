import { describe, expect, it } from "vitest";
import { formatRolloutCommand, parseRolloutCommand } from "../../../src/rollout/command.js";

describe("parseRolloutCommand", () => {
  it.each([
    ["promote:5f3a9c0d12", { action: "promote", revision: "5f3a9c0d12", id: "promote:5f3a9c0d12" }],
    ["abort:5f3a9c0d12", { action: "abort", revision: "5f3a9c0d12", id: "abort:5f3a9c0d12" }],
    [
      " retry:5f3a9c0d12:2026-01-02T03:04:05Z ",
      { action: "retry", revision: "5f3a9c0d12", id: "retry:5f3a9c0d12:2026-01-02T03:04:05Z" },
    ],
  ])("when the annotation is %j, then it reads %j", (value, command) => {
    expect(parseRolloutCommand(value)).toEqual({ ok: true, command });
  });

  it.each([
    ["pause:5f3a9c0d12", /the action must be promote, abort or retry/],
    ["promote", /name the revision, e.g. promote:<status.canary.revision>/],
    ["promote:", /name the revision/],
    ["promote:NOT_HEX!", /name the revision/],
    [`retry:5f3a9c0d12:${"x".repeat(200)}`, /longer than 128 characters/],
  ])("when the annotation is %j, then it is refused with a hint", (value, error) => {
    const r = parseRolloutCommand(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(error);
  });

  it("when a formatted command is parsed, then it round-trips", () => {
    const value = formatRolloutCommand("retry", "5f3a9c0d12", "n1");
    expect(value).toBe("retry:5f3a9c0d12:n1");
    expect(parseRolloutCommand(value)).toMatchObject({ ok: true, command: { action: "retry", id: value } });
  });
});
