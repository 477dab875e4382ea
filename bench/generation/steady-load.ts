// A steady client: `rate` queries a second to the router's /v1/query, open loop (each query leaves on
// its own schedule, never waiting for the one before), so a slow stretch shows as latency instead of
// as fewer queries — a closed loop would hide exactly the stall the benchmark looks for.
import { KeepAliveClient } from "../lib/http.js";
import type { QueryRecord } from "./report.js";

export interface SteadyLoad {
  readonly recs: QueryRecord[];
  /** Stops sending and waits for the queries in flight. */
  stop(): Promise<void>;
}

export function startSteadyLoad(
  routerUrl: string,
  ratePerSecond: number,
  texts: readonly string[],
  k: number,
): SteadyLoad {
  const http = new KeepAliveClient(routerUrl, 32);
  const recs: QueryRecord[] = [];
  const inFlight = new Set<Promise<void>>();
  const periodMs = 1000 / ratePerSecond;
  const t0 = performance.now();
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  let running = true;

  const send = (n: number) => {
    const body = JSON.stringify({ text: texts[n % texts.length], k });
    const sentAt = Date.now();
    const t = performance.now();
    const p = http
      .post("/v1/query", body)
      .then(
        (res) => res.status === 200,
        () => false,
      )
      .then((ok) => {
        recs.push({ sentAt, ms: performance.now() - t, ok });
      });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  // Scheduled from t0, not from the previous tick, so timer lateness does not lower the rate.
  const tick = () => {
    if (!running) return;
    const due = Math.floor((performance.now() - t0) / periodMs);
    while (i <= due) send(i++);
    timer = setTimeout(tick, Math.max(0, t0 + i * periodMs - performance.now()));
  };
  tick();

  return {
    recs,
    async stop() {
      running = false;
      clearTimeout(timer);
      await Promise.all([...inFlight]);
      http.close();
    },
  };
}
