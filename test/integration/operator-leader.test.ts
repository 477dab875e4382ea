// Two operator replicas against one real API server, both authenticated as the operator's
// ServiceAccount: the Lease decides which one acts, and a takeover neither duplicates nor rewrites
// what the previous leader made.
import { AppsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { adminKubeConfig } from "./harness/index.js";
import {
  encoderDeploymentName,
  examplePath,
  kubectl,
  type RunningOperator,
  setUpCluster,
  startOperator,
  waitFor,
} from "./operator-harness.js";

const cp = inject("controlPlane");
const NS = "op-leader";
const apps = adminKubeConfig(cp).makeApiClient(AppsV1Api);
const running: RunningOperator[] = [];
let leader: RunningOperator;
let standby: RunningOperator;

async function reconciles(op: RunningOperator): Promise<number> {
  const metric = await op.runtime.metrics.reconcileTotal.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

/** Writes other than the Lease: what acting on the cluster looks like. */
const actingWrites = (op: RunningOperator) => op.counter.writes().filter((w) => !w.url.includes("/leases/"));

beforeAll(async () => {
  await setUpCluster(cp, NS);
  const a = await startOperator(cp, { namespace: NS, identity: "operator-a" });
  running.push(a);
  await waitFor("operator-a to lead", async () => a.runtime.isLeader || undefined);
  const b = await startOperator(cp, { namespace: NS, identity: "operator-b" });
  running.push(b);
  leader = a;
  standby = b;
});

afterAll(async () => {
  await Promise.all(running.map((op) => op.stop()));
});

describe("operator: leader election", () => {
  it("when two operators run, then only the Lease holder reconciles and writes", async () => {
    expect((await kubectl(cp, ["-n", NS, "apply", "-f", examplePath("quickstart.yaml")])).code).toBe(0);
    await encoderDeploymentName(cp, NS, "minilm");
    await new Promise((r) => setTimeout(r, 2500)); // a resync period for the standby to (not) act in
    expect(leader.runtime.isLeader).toBe(true);
    expect(standby.runtime.isLeader).toBe(false);
    expect(await reconciles(standby)).toBe(0);
    expect(actingWrites(standby)).toEqual([]);
    expect(actingWrites(leader).length).toBeGreaterThan(0);
  });

  it("when the leader stops, then the standby takes over and rewrites nothing and duplicates nothing", async () => {
    const name = await encoderDeploymentName(cp, NS, "minilm");
    const before = await apps.readNamespacedDeployment({ name, namespace: NS });
    standby.counter.reset();
    await leader.stop();
    await waitFor("standby to lead", async () => standby.runtime.isLeader || undefined, 15_000);
    await waitFor("standby to reconcile", async () => ((await reconciles(standby)) > 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 2500));
    expect(actingWrites(standby)).toEqual([]);
    const after = await apps.listNamespacedDeployment({
      namespace: NS,
      labelSelector: "app.kubernetes.io/managed-by=embedops",
    });
    expect(after.items.map((d) => d.metadata?.name)).toEqual([name]);
    expect(after.items[0]?.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.items[0]?.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
  });
});
