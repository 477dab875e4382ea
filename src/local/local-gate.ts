// The recall gate of a local move: spec.quality's golden set (a ConfigMap in the served file) or,
// without one, the probe texts (recall of N+1's ANN answers against exact search needs no ids).
import type { GateVerdict } from "../generation/recall.js";
import { runRecallGate } from "../generation/recall-gate.js";
import { probeTexts } from "../rollout/probe-texts.js";
import { HttpClient } from "../router/http-client.js";
import type { GateOutcome } from "./generation-driver.js";
import type { GenerationShards } from "./generation-routing.js";
import type { LocalIndex } from "./plan.js";

/** Without spec.quality: recall@10 against exact search must reach this (the CRD's default minRecall). */
export const DEFAULT_MIN_RECALL = 0.9;

const shardsOf = (index: LocalIndex, g: GenerationShards) =>
  index.shards.map((name, i) => ({ name, replicas: [...(g.shards[i] ?? [])] }));

export async function runLocalGate(
  index: LocalIndex,
  candidate: GenerationShards & { encoderUrl: string },
  current: GenerationShards & { encoderUrl?: string },
): Promise<GateOutcome> {
  const quality = index.quality;
  const golden =
    quality?.golden ??
    probeTexts({ configured: index.rollout.probe.texts }).map((query) => ({ query, relevant: [] }));
  const verdict: GateVerdict = await runRecallGate({
    golden,
    k: quality?.k ?? 10,
    minRecall: quality?.minRecall ?? DEFAULT_MIN_RECALL,
    candidate: {
      name: candidate.ref.generation,
      fingerprint: candidate.ref.fingerprint,
      encoderUrl: candidate.encoderUrl,
      shards: shardsOf(index, candidate),
    },
    ...(current.encoderUrl
      ? {
          current: {
            name: current.ref.generation,
            fingerprint: current.ref.fingerprint,
            encoderUrl: current.encoderUrl,
            shards: shardsOf(index, current),
          },
        }
      : {}),
    http: new HttpClient(8),
  });
  return { pass: verdict.pass, recall: verdict.recallAtK, message: verdict.message };
}
