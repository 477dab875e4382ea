// Whether a candidate revision's pods can ever start without a change to the spec, read from the
// pods' container statuses. Pure: the operator lists the candidate's pods and passes them in; a
// non-undefined answer fails the rollout at once (CandidateCannotStart) instead of at the progress
// deadline, so a bad image is rolled back in seconds, not ten minutes.
//
// Fatal (the kubelet retries with back-off, but the outcome does not change by waiting):
//   ImagePullBackOff, ErrImageNeverPull, InvalidImageName   the image cannot be had
//   CrashLoopBackOff                                        the container (or an init container,
//                                                           e.g. the model's sha256 check) exits again and again
//   CreateContainerConfigError, CreateContainerError        a missing Secret/ConfigMap key, a bad mount
// Not fatal: ErrImagePull on its own (the first failed pull: a registry hiccup gets a second try;
// the next failure turns it into ImagePullBackOff), ContainerCreating, PodInitializing.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";

export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  "ImagePullBackOff",
  "ErrImageNeverPull",
  "InvalidImageName",
  "CrashLoopBackOff",
  "CreateContainerConfigError",
  "CreateContainerError",
]);

const DETAIL_MAX = 300;

const shorten = (text: string): string =>
  text.length <= DETAIL_MAX ? text : `${text.slice(0, DETAIL_MAX - 1)}…`;

function lastExit(status: V1ContainerStatus): string {
  const t = status.lastState?.terminated;
  if (!t) return "";
  const why = [t.reason, t.message?.trim()].filter((x) => x !== undefined && x !== "").join(": ");
  return `; last exit code ${t.exitCode}${why ? ` (${shorten(why)})` : ""}`;
}

function fatalContainer(pod: string, status: V1ContainerStatus, init: boolean): string | undefined {
  const waiting = status.state?.waiting;
  if (!waiting?.reason || !FATAL_WAITING_REASONS.has(waiting.reason)) return undefined;
  const detail = waiting.message ? ` (${shorten(waiting.message.trim())})` : "";
  const kind = init ? "init container" : "container";
  return `pod ${pod} ${kind} ${status.name}: ${waiting.reason}${detail}${lastExit(status)}`;
}

/**
 * The first fatal container state among `pods`, as one sentence naming the pod, the container and
 * the kubelet's reason and message; undefined while every pod may still start. Pods being deleted
 * are skipped (a scale-down is not a failure).
 */
export function podStartFailure(pods: readonly V1Pod[]): string | undefined {
  const live = [...pods]
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  for (const pod of live) {
    const name = pod.metadata?.name ?? "(unnamed)";
    for (const [statuses, init] of [
      [pod.status?.initContainerStatuses ?? [], true],
      [pod.status?.containerStatuses ?? [], false],
    ] as const) {
      for (const status of statuses) {
        const failure = fatalContainer(name, status, init);
        if (failure) return failure;
      }
    }
  }
  return undefined;
}
