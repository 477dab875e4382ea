import { describe, expect, it } from "vitest";
import { LeaderElector } from "../../src/kube/leader-election.js";
import { adminClients, eventually, namespace } from "./kube-helpers.js";

function elector(ns: string, lease: string, identity: string, leaseDurationMs: number) {
  const { coordination } = adminClients();
  const started: string[] = [];
  const stopped: string[] = [];
  const e = new LeaderElector({
    coordination,
    namespace: ns,
    name: lease,
    identity,
    leaseDurationMs,
    renewDeadlineMs: Math.min(2_000, leaseDurationMs - 1_000),
    retryPeriodMs: 200,
    onStartedLeading: () => started.push(identity),
    onStoppedLeading: (reason) => stopped.push(reason),
  });
  return { e, started, stopped, coordination };
}

describe("leader election against a real API server", () => {
  it("when two electors share a Lease, then exactly one leads and the Lease names it", async () => {
    const ns = await namespace("kube-leader-one");
    const a = elector(ns, "operator", "a_1", 60_000);
    const b = elector(ns, "operator", "b_2", 60_000);
    const runs = [a.e.run(), b.e.run()];
    const leader = await eventually("a leader", () => [a.e, b.e].find((e) => e.isLeader));
    // Several retry periods in which the standby keeps trying: it must keep failing.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      expect([a.e, b.e].filter((e) => e.isLeader)).toEqual([leader]);
    }
    const lease = await a.coordination.readNamespacedLease({ name: "operator", namespace: ns });
    expect(lease.spec?.holderIdentity).toBe(leader.identity);
    expect([...a.started, ...b.started]).toEqual([leader.identity]);
    await Promise.all([a.e.stop(), b.e.stop()]);
    await Promise.all(runs);
  });

  it("when the leader stops, then it releases the Lease and the standby takes over without waiting for expiry", async () => {
    const ns = await namespace("kube-leader-handover");
    // A 60 s lease: a takeover within the 20 s poll limit can only come from the release.
    const a = elector(ns, "operator", "a_1", 60_000);
    const runA = a.e.run();
    await eventually("a to lead", () => a.e.isLeader || undefined);
    const b = elector(ns, "operator", "b_2", 60_000);
    const runB = b.e.run();
    await eventually("b to observe a as leader", () => (b.e.leader === "a_1" ? true : undefined));
    expect(b.e.isLeader).toBe(false);

    await a.e.stop();
    await runA;
    expect(a.stopped).toEqual(["released"]);
    await eventually("b to take over", () => b.e.isLeader || undefined);

    const lease = await b.coordination.readNamespacedLease({ name: "operator", namespace: ns });
    expect(lease.spec?.holderIdentity).toBe("b_2");
    expect(lease.spec?.leaseTransitions).toBe(1);
    await b.e.stop();
    await runB;
  });

  it("when another replica overwrites the Lease, then the leader stops leading with reason lost", async () => {
    const ns = await namespace("kube-leader-lost");
    const a = elector(ns, "operator", "a_1", 60_000);
    const runA = a.e.run();
    await eventually("a to lead", () => a.e.isLeader || undefined);
    const lease = await a.coordination.readNamespacedLease({ name: "operator", namespace: ns });
    await a.coordination.replaceNamespacedLease({
      name: "operator",
      namespace: ns,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "usurper" } },
    });
    await runA; // run() returns when leadership is lost: the caller exits
    expect(a.stopped).toEqual(["lost"]);
    expect(a.e.state).toBe("stopped");
  });
});
