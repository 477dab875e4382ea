// The pure half of Lease leader election: given what the Lease says, when this replica first saw
// that version of it, and the time now, what should this replica do?
//
// Expiry is measured from when *we* observed the record, not from its renewTime, as client-go
// does: clocks of two replicas may disagree, but each replica's own clock measures durations well.

export interface LeaseRecord {
  readonly holderIdentity?: string | undefined;
  readonly leaseDurationSeconds?: number | undefined;
  readonly leaseTransitions?: number | undefined;
}

export interface LeaseObservation {
  /** undefined: the Lease object does not exist. */
  readonly record: LeaseRecord | undefined;
  /** Local time at which this replica first saw the current version of the record. */
  readonly observedAtMs: number;
}

export type LeaseDecision =
  | { readonly action: "create"; readonly reason: "no-lease" }
  | { readonly action: "acquire"; readonly reason: "released" | "expired"; readonly previousHolder?: string }
  | { readonly action: "renew"; readonly reason: "holder" }
  | {
      readonly action: "wait";
      readonly reason: "held";
      readonly holder: string;
      readonly expiresInMs: number;
    };

export function decideLease(
  observation: LeaseObservation,
  nowMs: number,
  identity: string,
  defaultLeaseDurationMs: number,
): LeaseDecision {
  const { record } = observation;
  if (record === undefined) return { action: "create", reason: "no-lease" };
  const holder = record.holderIdentity ?? "";
  if (holder === identity) return { action: "renew", reason: "holder" };
  if (holder === "") return { action: "acquire", reason: "released" };
  const durationMs =
    record.leaseDurationSeconds !== undefined && record.leaseDurationSeconds > 0
      ? record.leaseDurationSeconds * 1000
      : defaultLeaseDurationMs;
  const expiresInMs = observation.observedAtMs + durationMs - nowMs;
  if (expiresInMs <= 0) return { action: "acquire", reason: "expired", previousHolder: holder };
  return { action: "wait", reason: "held", holder, expiresInMs };
}

export interface LeaseSpecFields {
  holderIdentity?: string;
  leaseDurationSeconds: number;
  acquireTimeMs: number;
  renewTimeMs: number;
  leaseTransitions: number;
}

/**
 * The spec to write for a create/acquire/renew decision. Transitions count changes of holder
 * (as client-go counts them), so a renew or re-acquiring one's own released lease keeps it.
 */
export function nextLeaseSpec(
  decision: LeaseDecision,
  record: LeaseRecord | undefined,
  previousAcquireTimeMs: number | undefined,
  nowMs: number,
  identity: string,
  leaseDurationMs: number,
): LeaseSpecFields | undefined {
  const transitions = record?.leaseTransitions ?? 0;
  const leaseDurationSeconds = Math.max(1, Math.round(leaseDurationMs / 1000));
  switch (decision.action) {
    case "create":
      return {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTimeMs: nowMs,
        renewTimeMs: nowMs,
        leaseTransitions: 0,
      };
    case "acquire":
      return {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTimeMs: nowMs,
        renewTimeMs: nowMs,
        leaseTransitions: transitions + 1,
      };
    case "renew":
      return {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTimeMs: previousAcquireTimeMs ?? nowMs,
        renewTimeMs: nowMs,
        leaseTransitions: transitions,
      };
    case "wait":
      return undefined;
  }
}

/**
 * Released: no holder and a 1 s duration, so a successor that still reads an old holder (a client
 * that ignores the empty holder) waits one second, not the full lease duration.
 */
export function releasedLeaseSpec(record: LeaseRecord | undefined, nowMs: number): LeaseSpecFields {
  return {
    leaseDurationSeconds: 1,
    acquireTimeMs: nowMs,
    renewTimeMs: nowMs,
    leaseTransitions: record?.leaseTransitions ?? 0,
  };
}
