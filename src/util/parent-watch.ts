// A child that `embedops serve` started must not outlive it. serve gives each child a pipe on its
// stdin and its own pid in EMBEDOPS_PARENT_PID; the kernel closes serve's end of that pipe when serve
// exits, however it exits (Ctrl-C, a crash, SIGKILL), so end-of-file on stdin means "the parent is
// gone", at once and without polling. (process.ppid would not do: Node reads it once, at start.)
import type { Readable } from "node:stream";

export const parentPidEnv = "EMBEDOPS_PARENT_PID";

/** The supervising parent's pid, or undefined when the process was not started by `embedops serve`. */
export function parentPidFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[parentPidEnv];
  if (raw === undefined || raw === "") return undefined;
  const pid = Number(raw);
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new Error(
      `${parentPidEnv} must be a process id (a positive integer), got "${raw}"; "embedops serve" sets it ` +
        `for its children, unset it to run this process on its own`,
    );
  }
  return pid;
}

/** Calls `onGone` once, when `input` (the parent's pipe) ends, closes or fails. */
export function watchParent(input: Readable, onGone: () => void): void {
  let fired = false;
  const gone = () => {
    if (fired) return;
    fired = true;
    onGone();
  };
  input.once("end", gone);
  input.once("close", gone);
  input.once("error", gone);
  // Nothing is ever sent on the pipe: reading is only how its end is noticed.
  input.resume();
}
