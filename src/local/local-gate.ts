// The recall gate of a local move: spec.quality's golden set (a ConfigMap in the served file) or,
// without one, the probe texts (recall of N+1's ANN answers against exact search needs no ids).

import { GATE_DEFAULTS, probeGoldenSet } from "../generation/golden-set.js";
import type { GateVerdict } from "../generation/recall.js";
import { runRecallGate } from "../generation/recall-gate.js";
import { HttpClient } from "../router/http-client.js";
import type { GateOutcome } from "./generation-driver.js";
import type { GenerationShards } from "./generation-routing.js";
import type { LocalIndex } from "./plan.js";

const shardsOf = (index: LocalIndex, g: GenerationShards) =>
  index.shards.map((name, i) => ({ name, replicas: [...(g.shards[i] ?? [])] }));

export async function runLocalGate(
  index: LocalIndex,
  candidate: GenerationShards & { encoderUrl: string },
  current: GenerationShards & { encoderUrl?: string },
): Promise<GateOutcome> {
  const quality = index.quality;
  const golden = quality?.golden ?? probeGoldenSet(index.rollout.probe.texts);
  const verdict: GateVerdict = await runRecallGate({
    golden,
    k: quality?.k ?? GATE_DEFAULTS.k,
    minRecall: quality?.minRecall ?? GATE_DEFAULTS.minRecall,
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
