// What a reconciler needs from the outside world: the runtime's per-call context plus what the
// operator was started with (image, clock).
import type { Applier } from "../../src/kube/apply.js";
import { type Clock, systemClock } from "../../src/kube/clock.js";
import type { EventRecorder } from "../../src/kube/events.js";
import type { ObjectApi } from "../../src/kube/object-api.js";
import type { ReconcileContext } from "../../src/kube/operator-runtime.js";
import type { Logger } from "../../src/util/log.js";

export interface ReconcilerDeps {
  readonly objects: ObjectApi;
  readonly applier: Applier;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly log: Logger;
  /** Image of the data-plane pods (the operator's own image by default). */
  readonly image: string;
}

export interface ControllerOptions {
  /** Image of the data-plane pods; EmbeddingModel spec.runtime.image overrides it per model. */
  readonly image: string;
  /** Default the system clock; only transition times read it. */
  readonly clock?: Clock;
}

export function depsFrom(ctx: ReconcileContext, options: ControllerOptions): ReconcilerDeps {
  return {
    objects: ctx.clients.objects,
    applier: ctx.applier,
    events: ctx.events,
    log: ctx.log,
    clock: options.clock ?? systemClock,
    image: options.image,
  };
}

/** RFC 3339 without fractional seconds, as metav1.Time stores it. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
