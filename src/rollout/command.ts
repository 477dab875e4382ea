// A person's judgement on a rollout (`embedops rollout promote|abort|retry em/NAME`, as Argo offers).
// In a cluster the CLI writes an annotation, never the spec (GitOps owns the spec); `embedops serve`
// passes the same value. The value names the revision it is meant for, so a command left on the
// object can never act on a later rollout, and an optional nonce lets the same command be given
// twice (status.canary.lastCommand remembers the value last acted on):
//
//   embedops.dev/rollout-command: "<promote|abort|retry>:<revision>[:<nonce>]"
//   e.g. "abort:5f3a9c0d12" or "retry:5f3a9c0d12:2026-01-02T03:04:05Z"

export const ROLLOUT_COMMAND_ANNOTATION = "embedops.dev/rollout-command";

export const ROLLOUT_ACTIONS = ["promote", "abort", "retry"] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

export interface RolloutCommand {
  readonly action: RolloutAction;
  /** The candidate revision the person looked at. */
  readonly revision: string;
  /** The whole annotation value: a command is acted on once per distinct value. */
  readonly id: string;
}

export type ParsedCommand = { ok: true; command: RolloutCommand } | { ok: false; error: string };

const REVISION = /^[0-9a-z]{1,64}$/;

export function parseRolloutCommand(value: string): ParsedCommand {
  const text = value.trim();
  const [action, revision] = text.split(":");
  if (!ROLLOUT_ACTIONS.includes(action as RolloutAction)) {
    return {
      ok: false,
      error: `${ROLLOUT_COMMAND_ANNOTATION} "${value}": the action must be promote, abort or retry`,
    };
  }
  if (revision === undefined || !REVISION.test(revision)) {
    return {
      ok: false,
      error: `${ROLLOUT_COMMAND_ANNOTATION} "${value}": name the revision, e.g. ${action}:<status.canary.revision>`,
    };
  }
  if (text.length > 128)
    return { ok: false, error: `${ROLLOUT_COMMAND_ANNOTATION}: longer than 128 characters` };
  return { ok: true, command: { action: action as RolloutAction, revision, id: text } };
}

/** The annotation value for a command; `nonce` (e.g. the time) makes a repeated command distinct. */
export function formatRolloutCommand(action: RolloutAction, revision: string, nonce?: string): string {
  return nonce ? `${action}:${revision}:${nonce}` : `${action}:${revision}`;
}
