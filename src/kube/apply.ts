// Writing children, status and finalizers with as few writes as possible.
//
// Children and status: server-side apply, field manager `embedops`. force=true on children because
// the operator is their only rightful owner (a hand edit of an owned Deployment is drift to undo).
// Before applying, a child is compared with the observed one and the write is skipped when it
// is up to date, so a resync of a steady state issues zero requests, not merely no-op ones.
//
// Finalizers: JSON merge patch of the whole list with metadata.resourceVersion as a precondition,
// not server-side apply. SSA would own the list element cleanly, but an apply to an object that
// was deleted a moment ago *creates* it again; a merge patch answers 404 instead. The
// resourceVersion turns the read-modify-write into a compare-and-swap (409 on a concurrent change,
// retried with backoff), so another controller's finalizer is never dropped. GitOps tools leave
// the list alone: Argo CD's client-side apply does not track finalizers it never set, and Flux's
// server-side apply does not own our entry.
import { createHash } from "node:crypto";
import { type KubernetesObject, PatchStrategy } from "@kubernetes/client-node";
import { canonicalJson, isSubset, toJson } from "./compare.js";
import type { ObjectApi } from "./object-api.js";
import { statusChanged } from "./status.js";

export const FIELD_MANAGER = "embedops";
export const FINALIZER = "embedops.dev/finalizer";
/** Hash of the last desired object applied; lets an apply notice fields the operator dropped. */
export const APPLIED_HASH_ANNOTATION = "embedops.dev/applied-hash";

function withoutHash<T extends KubernetesObject>(obj: T): T {
  const { annotations: all, ...rest } = obj.metadata ?? {};
  const annotations = Object.fromEntries(
    Object.entries(all ?? {}).filter(([k]) => k !== APPLIED_HASH_ANNOTATION),
  );
  return { ...obj, metadata: Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest };
}

export function appliedHash(desired: KubernetesObject): string {
  return createHash("sha256")
    .update(canonicalJson(withoutHash(desired)))
    .digest("hex")
    .slice(0, 20);
}

/** `desired` with its hash annotation: what apply() sends. Deterministic, no timestamps. */
export function withAppliedHash<T extends KubernetesObject>(desired: T): T {
  const base = withoutHash(desired);
  return {
    ...base,
    metadata: {
      ...base.metadata,
      annotations: { ...(base.metadata?.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: appliedHash(base) },
    },
  };
}

/**
 * Up to date when the observed object was last applied from this same desired object (hash
 * matches, so no field was dropped since) and still carries every desired value (nobody edited
 * a field the operator sets). Values must be written as the API server stores them ("500m", not
 * "0.5"), or every resync finds a difference and sends a (no-op) apply.
 */
export function isUpToDate(desired: KubernetesObject, observed: KubernetesObject | undefined): boolean {
  if (!observed) return false;
  const hashed = toJson(withAppliedHash(desired));
  return isSubset(hashed, toJson(observed));
}

export interface ApplyResult<T> {
  /** false: the write was skipped because nothing changed. */
  readonly changed: boolean;
  /** The object returned by the API server, or the observed one when skipped. */
  readonly object: T;
}

export interface ApplierOptions {
  readonly fieldManager?: string;
}

export class Applier {
  private readonly fieldManager: string;

  constructor(
    private readonly objects: ObjectApi,
    options: ApplierOptions = {},
  ) {
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
  }

  /** Server-side apply of an owned child, skipped when `observed` is already up to date. */
  async apply<T extends KubernetesObject>(desired: T, observed?: T): Promise<ApplyResult<T>> {
    if (observed && isUpToDate(desired, observed)) return { changed: false, object: observed };
    requireIdentity(desired, "apply");
    const object = await this.objects.patch(
      withAppliedHash(desired),
      undefined,
      undefined,
      this.fieldManager,
      true,
      PatchStrategy.ServerSideApply,
    );
    return { changed: true, object };
  }

  /**
   * Server-side apply of `status` on the /status subresource of `target`, skipped when it equals
   * `observedStatus` apart from condition order and lastTransitionTime.
   */
  async applyStatus<T extends KubernetesObject>(
    target: T,
    status: unknown,
    observedStatus: unknown,
  ): Promise<ApplyResult<T | undefined>> {
    if (!statusChanged(status, observedStatus)) return { changed: false, object: undefined };
    requireIdentity(target, "applyStatus");
    // Only identity and status: an apply body claims every field it contains.
    const body: KubernetesObject & { status: unknown } = {
      apiVersion: target.apiVersion,
      kind: target.kind,
      metadata: { name: target.metadata?.name, namespace: target.metadata?.namespace },
      status,
    };
    const object = await this.objects.patchStatus<T>(
      body,
      PatchStrategy.ServerSideApply,
      this.fieldManager,
      true,
    );
    return { changed: true, object };
  }

  /** Adds `finalizer` unless present; returns whether a write happened. */
  async addFinalizer(obj: KubernetesObject, finalizer: string = FINALIZER): Promise<boolean> {
    const current = obj.metadata?.finalizers ?? [];
    if (current.includes(finalizer)) return false;
    await this.patchFinalizers(obj, [...current, finalizer]);
    return true;
  }

  /** Removes `finalizer` when present; returns whether a write happened. */
  async removeFinalizer(obj: KubernetesObject, finalizer: string = FINALIZER): Promise<boolean> {
    const current = obj.metadata?.finalizers ?? [];
    if (!current.includes(finalizer)) return false;
    await this.patchFinalizers(
      obj,
      current.filter((f) => f !== finalizer),
    );
    return true;
  }

  private async patchFinalizers(obj: KubernetesObject, finalizers: string[]): Promise<void> {
    requireIdentity(obj, "a finalizer patch");
    const resourceVersion = obj.metadata?.resourceVersion;
    if (!resourceVersion) {
      throw new Error(
        `a finalizer patch of ${obj.kind}/${obj.metadata?.name} needs metadata.resourceVersion as its precondition; ` +
          "pass the object as read from the API server",
      );
    }
    const body: KubernetesObject = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: { name: obj.metadata?.name, namespace: obj.metadata?.namespace, resourceVersion, finalizers },
    };
    await this.objects.patch(
      body,
      undefined,
      undefined,
      this.fieldManager,
      undefined,
      PatchStrategy.MergePatch,
    );
  }
}

function requireIdentity(obj: KubernetesObject, what: string): void {
  if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
    throw new Error(
      `${what} needs apiVersion, kind and metadata.name; got ${obj.apiVersion ?? "?"} ${obj.kind ?? "?"} ` +
        `${obj.metadata?.name ?? "?"}`,
    );
  }
}
