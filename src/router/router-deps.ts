// What the route handlers share. `runtime()` is read per request, so a config reload takes effect
// for the next request while in-flight ones finish on the runtime they started with.
import type { Logger } from "../util/log.js";
import type { IndexRuntime } from "./index-runtime.js";
import type { RouterMetrics } from "./metrics.js";

export interface RouterDeps {
  runtime(): IndexRuntime;
  /** Writes still running on runtimes a reload replaced (0 when none). */
  olderWritesInFlight?(): number;
  metrics: RouterMetrics;
  log: Logger;
}
