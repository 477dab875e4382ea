import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { parentPidEnv, parentPidFromEnv, watchParent } from "../../../src/util/parent-watch.js";

describe("parentPidFromEnv", () => {
  const cases: { value: string | undefined; pid?: number; error?: RegExp }[] = [
    { value: undefined, pid: undefined },
    { value: "", pid: undefined },
    { value: "4242", pid: 4242 },
    { value: "0", error: /EMBEDOPS_PARENT_PID must be a process id .* got "0"/ },
    { value: "-3", error: /got "-3"/ },
    { value: "serve", error: /got "serve".*unset it/ },
  ];
  for (const c of cases) {
    it(`when ${parentPidEnv} is ${JSON.stringify(c.value)}, then ${c.error ? "it is refused" : `the pid is ${c.pid}`}`, () => {
      const env = c.value === undefined ? {} : { [parentPidEnv]: c.value };
      if (c.error) expect(() => parentPidFromEnv(env)).toThrow(c.error);
      else expect(parentPidFromEnv(env)).toBe(c.pid);
    });
  }
});

describe("watchParent", () => {
  it("when the parent's pipe is open, then nothing happens; when it ends, then onGone runs once", async () => {
    const pipe = new PassThrough();
    let gone = 0;
    watchParent(pipe, () => {
      gone += 1;
    });
    pipe.write("ignored");
    await new Promise((r) => setImmediate(r));
    expect(gone).toBe(0);
    pipe.end();
    await new Promise<void>((r) => pipe.once("close", () => r()));
    expect(gone).toBe(1);
  });

  it("when the pipe fails, then onGone runs", async () => {
    const pipe = new PassThrough();
    const gone = new Promise<void>((r) => watchParent(pipe, r));
    pipe.destroy(new Error("EIO"));
    await gone;
  });
});
