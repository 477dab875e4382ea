// The standard conditions a rollout asserts, for the shell to merge with its own (Ready from the
// workloads, Degraded for apply errors...). Only what the rollout knows: Progressing while a canary
// is under way or stopped, Degraded=True when the revision the spec asks for failed.
import type { CanaryStatus } from "../api/v1alpha1/index.js";

export interface RolloutCondition {
  readonly type: "Progressing" | "Degraded";
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
}

/**
 * Conditions for `status` when the spec asks for `candidateRevision`. A record of another revision
 * (an older rollout) asserts nothing: the spec's revision then serves as stable, or is about to start.
 */
export function rolloutConditions(
  status: CanaryStatus | undefined,
  candidateRevision: string,
): RolloutCondition[] {
  if (status === undefined || status.revision !== candidateRevision) return [];
  const message = status.message ?? "";
  const progressing = (s: "True" | "False", reason: string): RolloutCondition => ({
    type: "Progressing",
    status: s,
    reason,
    message,
  });
  switch (status.phase) {
    case "Initializing":
      return [progressing("True", "CanaryInitializing")];
    case "Progressing":
      return [progressing("True", "CanaryProgressing")];
    case "Promoting":
      return [progressing("True", "CanaryPromoting")];
    case "Paused":
      return [
        progressing(
          "False",
          status.reason === "NewGenerationRequired" ? "NewGenerationRequired" : "RolloutPaused",
        ),
      ];
    case "Succeeded":
      return [progressing("False", "RolloutComplete")];
    case "Failed": {
      const reason = status.reason ?? "RolloutFailed";
      return [progressing("False", reason), { type: "Degraded", status: "True", reason, message }];
    }
  }
}
