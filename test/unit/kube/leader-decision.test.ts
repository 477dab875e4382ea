import { describe, expect, it } from "vitest";
import {
  decideLease,
  type LeaseObservation,
  nextLeaseSpec,
  releasedLeaseSpec,
} from "../../../src/kube/leader-decision.js";

const ME = "pod-a_1111";
const OTHER = "pod-b_2222";
const NOW = 1_000_000;
const DEFAULT_MS = 15_000;

describe("decideLease", () => {
  const cases: Array<{
    when: string;
    observation: LeaseObservation;
    expected: ReturnType<typeof decideLease>;
  }> = [
    {
      when: "no Lease exists",
      observation: { record: undefined, observedAtMs: NOW },
      expected: { action: "create", reason: "no-lease" },
    },
    {
      when: "this replica holds it",
      observation: { record: { holderIdentity: ME, leaseDurationSeconds: 15 }, observedAtMs: NOW - 60_000 },
      expected: { action: "renew", reason: "holder" },
    },
    {
      when: "the holder is empty (released)",
      observation: { record: { holderIdentity: "", leaseDurationSeconds: 1 }, observedAtMs: NOW },
      expected: { action: "acquire", reason: "released" },
    },
    {
      when: "the holder is unset",
      observation: { record: {}, observedAtMs: NOW },
      expected: { action: "acquire", reason: "released" },
    },
    {
      when: "another holder was seen renewing 5 s ago with a 15 s lease",
      observation: {
        record: { holderIdentity: OTHER, leaseDurationSeconds: 15 },
        observedAtMs: NOW - 5_000,
      },
      expected: { action: "wait", reason: "held", holder: OTHER, expiresInMs: 10_000 },
    },
    {
      when: "another holder has not renewed for exactly the lease duration",
      observation: {
        record: { holderIdentity: OTHER, leaseDurationSeconds: 15 },
        observedAtMs: NOW - 15_000,
      },
      expected: { action: "acquire", reason: "expired", previousHolder: OTHER },
    },
    {
      when: "another holder's lease has no duration, so the default applies",
      observation: { record: { holderIdentity: OTHER }, observedAtMs: NOW - 14_000 },
      expected: { action: "wait", reason: "held", holder: OTHER, expiresInMs: 1_000 },
    },
    {
      when: "another holder set a 1 s lease and 2 s have passed",
      observation: {
        record: { holderIdentity: OTHER, leaseDurationSeconds: 1 },
        observedAtMs: NOW - 2_000,
      },
      expected: { action: "acquire", reason: "expired", previousHolder: OTHER },
    },
  ];
  for (const c of cases) {
    it(`when ${c.when}, then ${c.expected.action}`, () => {
      expect(decideLease(c.observation, NOW, ME, DEFAULT_MS)).toEqual(c.expected);
    });
  }
});

describe("nextLeaseSpec", () => {
  it("when taking over from another holder, then transitions increase and both times are now", () => {
    const spec = nextLeaseSpec(
      { action: "acquire", reason: "expired", previousHolder: OTHER },
      { holderIdentity: OTHER, leaseTransitions: 4 },
      NOW - 99_000,
      NOW,
      ME,
      15_000,
    );
    expect(spec).toEqual({
      holderIdentity: ME,
      leaseDurationSeconds: 15,
      acquireTimeMs: NOW,
      renewTimeMs: NOW,
      leaseTransitions: 5,
    });
  });

  it("when renewing, then transitions and acquire time are kept and renew time moves", () => {
    const spec = nextLeaseSpec(
      { action: "renew", reason: "holder" },
      { holderIdentity: ME, leaseTransitions: 2 },
      NOW - 30_000,
      NOW,
      ME,
      15_000,
    );
    expect(spec).toMatchObject({ acquireTimeMs: NOW - 30_000, renewTimeMs: NOW, leaseTransitions: 2 });
  });

  it("when waiting, then nothing is written", () => {
    const decision = { action: "wait", reason: "held", holder: OTHER, expiresInMs: 1 } as const;
    expect(nextLeaseSpec(decision, { holderIdentity: OTHER }, undefined, NOW, ME, 15_000)).toBeUndefined();
  });

  it("when released, then the holder is empty and the duration is one second", () => {
    const spec = releasedLeaseSpec({ holderIdentity: ME, leaseTransitions: 3 }, NOW);
    expect(spec.holderIdentity).toBeUndefined();
    expect(spec.leaseDurationSeconds).toBe(1);
    expect(spec.leaseTransitions).toBe(3);
  });
});
