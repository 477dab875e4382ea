// Retries for the backfill's calls: a restarting shard (503), a busy encoder (429) or a dropped
// connection pass within seconds; a 4xx is the request's fault and fails at once.
import { RequestFailed } from "../router/http-client.js";
import { UpstreamError } from "../router/upstream-error.js";

export const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000, 8000] as const;

/** True for failures worth another attempt. */
export function retryable(err: unknown): boolean {
  if (err instanceof UpstreamError) return !err.clientFault;
  return err instanceof RequestFailed && err.reason !== "aborted";
}

export async function withRetry<T>(
  fn: () => Promise<T>,
  sleep: (ms: number) => Promise<void>,
  onRetry: (err: unknown, attempt: number) => void = () => {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !retryable(err)) throw err;
      onRetry(err, attempt + 1);
      await sleep(delay);
    }
  }
}
