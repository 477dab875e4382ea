// After a restore (status.restoredFrom) and with spec.quality set: the recall gate of moves
// (generation-probe.ts) run once against the restored generation, its result kept in the
// RestoreVerified condition. The gate compares the generation's ANN answers with its exact search,
// which is what a restore can break (a graph checkpoint that does not match its database, a graph
// rebuilt after redistribution); relevant-id recall is measured against itself, so only minRecall
// can fail it. It never blocks serving: the condition reports, the index stays Ready.
import type { VectorIndex, VectorIndexStatus } from "../../src/api/v1alpha1/index.js";
import type { IndexProps } from "../../src/builders/index-props.js";
import { encoderConfig, generationShards } from "../../src/builders/router-config.js";
import { GATE_DEFAULTS } from "../../src/generation/golden-set.js";
import type { ConditionStatus } from "../../src/kube/status.js";
import type { ReconcilerDeps } from "../shared/deps.js";
import { goldenSet } from "./generation-move.js";
import type { GenerationProbe } from "./generation-probe.js";

export const RESTORE_VERIFIED = "RestoreVerified";

export interface RestoreVerification {
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

/** Polling interval while the gate runs in the background. */
export const VERIFY_POLL_MS = 2000;

export interface VerifyInput {
  readonly deps: ReconcilerDeps;
  readonly probe: GenerationProbe;
  readonly vi: VectorIndex;
  readonly namespace: string;
  /** The restored generation, built as it runs. */
  readonly restored: IndexProps;
  readonly generation: string;
  /** It is the generation status.activeGeneration names (a later move replaced it: nothing to check). */
  readonly serving: boolean;
  /** Its shards are all ready. */
  readonly ready: boolean;
  readonly previous: VectorIndexStatus | undefined;
}

/** Undefined: nothing to verify (no spec.quality). */
export async function verifyRestore(i: VerifyInput): Promise<RestoreVerification | undefined> {
  if (!i.vi.spec.quality) return undefined;
  const before = i.previous?.conditions?.find((c) => c.type === RESTORE_VERIFIED);
  if (before && before.status !== "Unknown")
    return { status: before.status, reason: before.reason ?? "", message: before.message ?? "" };
  if (!i.serving) return undefined;
  if (!i.ready)
    return {
      status: "Unknown",
      reason: "WaitingForShards",
      message: `the golden-set check runs once generation ${i.generation}'s shards are ready`,
    };
  const golden = await goldenSet(i.deps, i.namespace, i.vi);
  if ("error" in golden) return { status: "False", reason: "GoldenSetUnreadable", message: golden.error };
  const gen = {
    name: i.generation,
    fingerprint: i.restored.fingerprint,
    encoderUrl: (encoderConfig(i.restored, i.namespace) as { url: string }).url,
    shards: generationShards(i.restored, i.namespace),
  };
  const target = { namespace: i.namespace, index: i.vi.metadata.name, generation: i.generation };
  const result = await i.probe.gate({
    ...target,
    golden: golden.golden,
    k: i.vi.spec.quality.k ?? GATE_DEFAULTS.k,
    minRecall: i.vi.spec.quality.minRecall ?? GATE_DEFAULTS.minRecall,
    current: gen,
    candidate: gen,
  });
  if (!result)
    return {
      status: "Unknown",
      reason: "Measuring",
      message: `recall@k of generation ${i.generation} on the golden set is being measured`,
    };
  i.probe.forget(target);
  const recall = result.recall !== undefined ? ` (recall@k ${result.recall.toFixed(3)})` : "";
  return result.pass
    ? {
        status: "True",
        reason: "RecallAboveMinimum",
        message: `after the restore${recall}: ${result.message}`,
      }
    : {
        status: "False",
        reason: "RecallBelowMinimum",
        message: `after the restore${recall}: ${result.message}`,
      };
}
