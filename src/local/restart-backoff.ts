// When a crashed child process is started again: exponential backoff that forgets old crashes,
// so a child that ran fine for a while restarts at once, and one that crash-loops waits longer.

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** A child that stayed up this long is considered healthy again; its crash count resets. */
  healthyAfterMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  healthyAfterMs: 60_000,
};

export interface CrashHistory {
  /** Consecutive crashes without a healthy run in between. */
  consecutive: number;
}

/** The delay before the next start, and the history to keep, after a crash of a child that ran for `uptimeMs`. */
export function afterCrash(
  history: CrashHistory,
  uptimeMs: number,
  policy: RestartPolicy = defaultRestartPolicy,
): { delayMs: number; history: CrashHistory } {
  const consecutive = uptimeMs >= policy.healthyAfterMs ? 1 : history.consecutive + 1;
  const delayMs = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (consecutive - 1));
  return { delayMs, history: { consecutive } };
}
