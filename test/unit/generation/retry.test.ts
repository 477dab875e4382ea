import { describe, expect, it } from "vitest";
import { retryable, withRetry } from "../../../src/generation/retry.js";
import { RequestFailed } from "../../../src/router/http-client.js";
import { UpstreamError } from "../../../src/router/upstream-error.js";

describe("retryable", () => {
  it.each([
    ["a 503 (a shard starting)", new UpstreamError("u", 503, "not ready"), true],
    ["a 429 (a busy encoder)", new UpstreamError("u", 429, "busy"), true],
    ["a 409 (the wrong fingerprint)", new UpstreamError("u", 409, "mismatch"), false],
    ["a 400", new UpstreamError("u", 400, "bad"), false],
    ["a refused connection", new RequestFailed("network", "u", "ECONNREFUSED"), true],
    ["a timeout", new RequestFailed("timeout", "u", "slow"), true],
    ["a cancelled call", new RequestFailed("aborted", "u", "cancelled"), false],
    ["a programming error", new TypeError("x"), false],
  ])("when a call fails with %s, then retrying is %s", (_what, err, want) => {
    expect(retryable(err)).toBe(want);
  });
});

describe("withRetry", () => {
  it("when a call fails twice transiently, then the third attempt's answer is returned", async () => {
    let calls = 0;
    const waits: number[] = [];
    const out = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new UpstreamError("u", 503, "not ready");
        return "ok";
      },
      async (ms) => {
        waits.push(ms);
      },
    );
    expect({ out, calls, waits }).toEqual({ out: "ok", calls: 3, waits: [250, 500] });
  });

  it("when a call keeps failing, then the last error is thrown after six retries", async () => {
    let calls = 0;
    const attempt = withRetry(
      async () => {
        calls++;
        throw new RequestFailed("network", "u", "ECONNREFUSED");
      },
      async () => {},
    );
    await expect(attempt).rejects.toThrow("ECONNREFUSED");
    expect(calls).toBe(7);
  });
});
