// `embedops operator`: the EmbeddingModel, VectorIndex and IndexSnapshot controllers in the
// src/kube runtime (informers, workqueues, Lease leader election, /metrics, /healthz, /readyz).
import { parseArgs } from "node:util";
import {
  type FingerprintProbe,
  httpFingerprintProbe,
} from "../../controllers/embedding-model/fingerprint-probe.js";
import {
  type EmbeddingModelOptions,
  EmbeddingModelReconciler,
} from "../../controllers/embedding-model/reconciler.js";
import { IndexSnapshotReconciler } from "../../controllers/index-snapshot/reconciler.js";
import type { GenerationProbe } from "../../controllers/vector-index/generation-probe.js";
import { VectorIndexReconciler } from "../../controllers/vector-index/reconciler.js";
import type { ReplicaIo } from "../../controllers/vector-index/replica-io.js";
import { type KubeClients, loadKubeConfig, makeClients } from "../kube/client.js";
import type { Clock } from "../kube/clock.js";
import { type OperatorRuntimeOptions, runOperator } from "../kube/operator-runtime.js";
import { createLogger, type Logger } from "../util/log.js";
import { version } from "../version.js";
import { pick, pickInt, pickString, UsageError } from "./options.js";

const HELP = `usage: embedops operator [flags]

Runs the embedops controllers against the cluster in the kubeconfig (or the in-cluster
ServiceAccount). Every flag also reads EMBEDOPS_<FLAG>.

  --kubeconfig FILE        default $KUBECONFIG, ~/.kube/config, then in-cluster
  --namespace NS           watch one namespace (default: all)
  --leader-elect BOOL      take a Lease before acting (default true; run 2 replicas)
  --lease-namespace NS     namespace of the Lease (default $POD_NAMESPACE, else embedops-system)
  --lease-name NAME        default embedops-operator
  --image IMAGE            image of encoder, shard and router pods (default ${defaultImage()})
  --resync-seconds N       re-check every object this often (default 600)
  --metrics-port N         /metrics (default 8080)
  --health-port N          /healthz and /readyz (default 8081)

Tests and demos only: EMBEDOPS_TEST_MIN_INTERVAL_SECONDS=N caps every rollout's
analysisIntervalSeconds at N (the CRD's minimum is 10).
`;

export function defaultImage(): string {
  return `ghcr.io/embedops/embedops:${version}`;
}

export interface OperatorSetup {
  readonly clients: KubeClients;
  readonly image: string;
  readonly namespace?: string | undefined;
  readonly leaderElection: OperatorRuntimeOptions["leaderElection"];
  readonly metricsPort?: number;
  readonly healthPort?: number;
  readonly resyncPeriodMs?: number;
  /** Default: GET /info through each model's encoder Service. */
  readonly probe?: FingerprintProbe;
  /** Rollout I/O (default: HTTP through each revision's Service); tests stand in for encoders. */
  readonly rollout?: Pick<
    EmbeddingModelOptions,
    "scrape" | "sendProbe" | "fetchPrometheus" | "maxIntervalSeconds"
  >;
  /** How a generation move's pods are read (default HTTP); tests stand in for routers, backfill, gate. */
  readonly generations?: GenerationProbe;
  /** How new replicas are observed and caught up (default HTTP); tests stand in for the shard pods. */
  readonly replicas?: ReplicaIo;
  readonly clock?: Clock;
  readonly log?: Logger;
}

/** The runtime options of the operator; tests start the same assembly in-process. */
export function operatorOptions(setup: OperatorSetup): OperatorRuntimeOptions {
  const common = { image: setup.image, ...(setup.clock ? { clock: setup.clock } : {}) };
  return {
    clients: setup.clients,
    controllers: [
      new EmbeddingModelReconciler({
        ...common,
        ...setup.rollout,
        probe: setup.probe ?? httpFingerprintProbe(),
      }),
      new VectorIndexReconciler({
        ...common,
        ...(setup.generations ? { generations: setup.generations } : {}),
        ...(setup.replicas ? { replicas: setup.replicas } : {}),
        ...(setup.rollout?.maxIntervalSeconds !== undefined
          ? { maxIntervalSeconds: setup.rollout.maxIntervalSeconds }
          : {}),
      }),
      new IndexSnapshotReconciler(common),
    ],
    ...(setup.namespace ? { namespace: setup.namespace } : {}),
    leaderElection: setup.leaderElection,
    metricsAddress: { host: "0.0.0.0", port: setup.metricsPort ?? 8080 },
    healthAddress: { host: "0.0.0.0", port: setup.healthPort ?? 8081 },
    ...(setup.resyncPeriodMs !== undefined ? { resyncPeriodMs: setup.resyncPeriodMs } : {}),
    ...(setup.clock ? { clock: setup.clock } : {}),
    ...(setup.log ? { log: setup.log } : {}),
  };
}

function parseBool(flag: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new UsageError(`--${flag} must be true or false, got "${raw}"`);
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string" },
      "leader-elect": { type: "string" },
      "lease-namespace": { type: "string" },
      "lease-name": { type: "string" },
      image: { type: "string" },
      "resync-seconds": { type: "string" },
      "metrics-port": { type: "string" },
      "health-port": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const v = values as Record<string, unknown>;
  const log = createLogger({ role: "operator" });
  const kubeConfig = loadKubeConfig({ path: pick(v, "kubeconfig") });
  const leaderElect = parseBool("leader-elect", pick(v, "leader-elect"), true);
  const leaseNamespace = pick(v, "lease-namespace") ?? process.env["POD_NAMESPACE"] ?? "embedops-system";
  const code = await runOperator(
    operatorOptions({
      clients: makeClients(kubeConfig),
      image: pickString(v, "image", defaultImage()),
      namespace: pick(v, "namespace"),
      leaderElection: leaderElect
        ? { namespace: leaseNamespace, name: pickString(v, "lease-name", "embedops-operator") }
        : false,
      metricsPort: pickInt(v, "metrics-port", 8080, 0, 65535),
      healthPort: pickInt(v, "health-port", 8081, 0, 65535),
      resyncPeriodMs: pickInt(v, "resync-seconds", 600, 0) * 1000,
      log,
    }),
  );
  process.exitCode = code;
}
