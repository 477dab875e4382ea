// `embedops backfill --plan FILE` as a child of serve: not a server (no port, no readiness), one run
// to the end. Its stdin is serve's pipe (it stops when serve is gone, cursor saved); its output goes
// to the index's backfill log.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { parentPidEnv } from "../util/parent-watch.js";
import { cliPath } from "./child-process.js";
import type { BackfillChild } from "./generation-driver.js";

export function startBackfillChild(planFile: string, logFile: string): BackfillChild {
  const log = createWriteStream(logFile, { flags: "a" });
  const proc = spawn(process.execPath, [cliPath, "backfill", "--plan", planFile], {
    env: { ...process.env, [parentPidEnv]: String(process.pid) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  proc.stdin?.on("error", () => undefined);
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    proc.once("exit", (code) => resolve(code));
    proc.once("error", (err) => {
      log.write(`could not start the backfill: ${err.message}\n`);
      resolve(1);
    });
  });
  void exited.then(() => log.end());
  return {
    exited,
    pid: proc.pid,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
