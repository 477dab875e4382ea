import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { podStartFailure } from "../../../src/rollout/pod-start-failure.js";

const waiting = (name: string, reason: string, message?: string): V1ContainerStatus => ({
  name,
  image: "embedops:test",
  imageID: "",
  ready: false,
  restartCount: 0,
  state: { waiting: { reason, ...(message ? { message } : {}) } },
});

const pod = (
  name: string,
  containers: V1ContainerStatus[],
  init: V1ContainerStatus[] = [],
  deleting = false,
): V1Pod => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: new Date("2026-01-01T00:00:00Z") } : {}) },
  status: { containerStatuses: containers, initContainerStatuses: init },
});

describe("podStartFailure", () => {
  it.each([
    ["ImagePullBackOff", 'Back-off pulling image "embedops:nope"'],
    ["ErrImageNeverPull", 'Container image "embedops:nope" is not present with pull policy of Never'],
    ["InvalidImageName", 'Failed to apply default image tag "Embedops:NOPE"'],
    ["CreateContainerConfigError", 'secret "model-key" not found'],
    ["CreateContainerError", "failed to mount"],
  ])(
    "when a container waits in %s, then the pod cannot start and the answer names pod, container and reason",
    (reason, message) => {
      expect(podStartFailure([pod("enc-1", [waiting("encoder", reason, message)])])).toBe(
        `pod enc-1 container encoder: ${reason} (${message})`,
      );
    },
  );

  it.each(["ErrImagePull", "ContainerCreating", "PodInitializing"])(
    "when a container waits in %s, then it may still start",
    (reason) => {
      expect(podStartFailure([pod("enc-1", [waiting("encoder", reason, "x")])])).toBeUndefined();
    },
  );

  it("when a container crash-loops, then the answer carries its last exit code and message", () => {
    const status: V1ContainerStatus = {
      ...waiting("encoder", "CrashLoopBackOff", "back-off 10s restarting failed container"),
      restartCount: 2,
      lastState: { terminated: { exitCode: 2, reason: "Error", message: 'spec.pooling is "cls" but …' } },
    };
    expect(podStartFailure([pod("enc-1", [status])])).toBe(
      'pod enc-1 container encoder: CrashLoopBackOff (back-off 10s restarting failed container); last exit code 2 (Error: spec.pooling is "cls" but …)',
    );
  });

  it("when an init container crash-loops (the model's sha256 check), then it is named as an init container", () => {
    const failure = podStartFailure([
      pod("enc-1", [waiting("encoder", "PodInitializing")], [waiting("verify-model", "CrashLoopBackOff")]),
    ]);
    expect(failure).toBe("pod enc-1 init container verify-model: CrashLoopBackOff");
  });

  it("when only a pod being deleted is stuck, then nothing is reported (a scale-down is no failure)", () => {
    expect(
      podStartFailure([pod("enc-1", [waiting("encoder", "ImagePullBackOff")], [], true)]),
    ).toBeUndefined();
  });

  it("when pods are healthy, missing statuses or absent, then nothing is reported", () => {
    const running: V1ContainerStatus = { ...waiting("encoder", "x"), ready: true, state: { running: {} } };
    expect(podStartFailure([pod("enc-1", [running]), { metadata: { name: "enc-2" } }])).toBeUndefined();
    expect(podStartFailure([])).toBeUndefined();
  });

  it("when several pods fail, then the first by name is reported, whatever the list order", () => {
    const a = pod("enc-a", [waiting("encoder", "ImagePullBackOff")]);
    const b = pod("enc-b", [waiting("encoder", "CrashLoopBackOff")]);
    expect(podStartFailure([b, a])).toBe("pod enc-a container encoder: ImagePullBackOff");
  });

  it("when the kubelet's message is very long, then it is shortened", () => {
    const failure = podStartFailure([
      pod("enc-1", [waiting("encoder", "ImagePullBackOff", "x".repeat(5000))]),
    ]);
    expect(failure?.length).toBeLessThan(400);
    expect(failure?.endsWith("…)")).toBe(true);
  });
});
