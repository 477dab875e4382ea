// `embedops rollout status|promote|abort|retry em/NAME`: a person's view of, and judgement on, a
// canary rollout — against the running `embedops serve` (its state dir) or against a cluster.
//
// Local: serve persists each model's rollout in <data-dir>/rollouts/<model>.json (read here) and
// reads commands from <data-dir>/rollouts/<model>.command (written here): the command file is the
// control channel, with the same value a cluster's annotation holds, acted on once per value.
// Cluster (--kubeconfig, --context, or no running serve and $KUBECONFIG set): status.canary of the
// EmbeddingModel; commands are a JSON merge patch of the embedops.dev/rollout-command annotation,
// metadata only (the spec belongs to the user and their GitOps repository).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { type KubernetesObject, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { API_VERSION, type CanaryStatus } from "../api/v1alpha1/index.js";
import type { GenerationRolloutStatus } from "../generation/generation-rollout.js";
import { loadKubeConfig } from "../kube/client.js";
import { generationCommandPath } from "../local/generation-file.js";
import { readRolloutFile, rolloutCommandPath } from "../local/rollout-driver.js";
import { defaultDataDir, readServeState } from "../local/serve-state.js";
import {
  formatRolloutCommand,
  ROLLOUT_ACTIONS,
  ROLLOUT_COMMAND_ANNOTATION,
  type RolloutAction,
} from "../rollout/command.js";
import { pidAlive } from "../util/pid-alive.js";
import { replaceFile } from "../util/replace-file.js";
import { UsageError } from "./options.js";
import {
  commandRevisionOf,
  formatIndexRolloutView,
  type IndexRolloutView,
  localIndexView,
} from "./rollout-index.js";

const help = `usage: embedops rollout status em/NAME|vi/NAME [--json]
       embedops rollout promote|abort|retry em/NAME|vi/NAME

Shows or steers the canary rollout of an EmbeddingModel (em/NAME), or a VectorIndex's move to a new
generation after a model change (vi/NAME: backfill, recall gate, query canary): against the running
"embedops serve" (found through --data-dir, default ${defaultDataDir}), or against a cluster with
--kubeconfig FILE, --context NAME, or $KUBECONFIG when no serve runs here.

  promote   move all traffic to the candidate now (skips the remaining checks)
  abort     roll back: traffic to stable, candidate stopped (vi: the new generation is deleted)
  retry     start a Failed rollout again, or resume a Paused one

flags: --json  --data-dir DIR  --kubeconfig FILE  --context NAME  -n, --namespace NS`;

/** What both sources give: the rollout's status and what a line needs around it. */
export interface RolloutView {
  readonly model: string;
  readonly stableRevision: string | undefined;
  readonly canary: CanaryStatus | undefined;
  readonly maxFailedChecks: number | undefined;
  readonly source: string;
}

const short = (revision: string | undefined) => (revision ? `${revision.slice(0, 4)}…` : "-");

/**
 * One line, e.g.
 * `em/minilm  canary 4f3a…(10%) Progressing  stable 9c1b…  checks failed 0/1  last: Pass all checks passed …`,
 * then the status message on a second line.
 */
export function formatRolloutView(v: RolloutView): string {
  const c = v.canary;
  if (!c) return `em/${v.model}  no rollout  stable ${short(v.stableRevision)}`;
  const failed = `checks failed ${c.failedChecks}/${v.maxFailedChecks ?? "?"}`;
  const last = c.lastVerdict ? `  last: ${c.lastVerdict.result} ${c.lastVerdict.message}` : "";
  const phase = c.reason ? `${c.phase} (${c.reason})` : c.phase;
  const line = `em/${v.model}  canary ${short(c.revision)}(${c.weight}%) ${phase}  stable ${short(v.stableRevision ?? c.stableRevision)}  ${failed}${last}`;
  return c.message ? `${line}\n  ${c.message}` : line;
}

interface Flags {
  json: boolean;
  dataDir: string;
  kubeconfig: string | undefined;
  context: string | undefined;
  namespace: string | undefined;
}

type Target = { kind: "EmbeddingModel"; name: string } | { kind: "VectorIndex"; name: string };

function targetOf(target: string | undefined): Target {
  const m =
    /^(em|embeddingmodels?|vi|vectorindex|vectorindexes|vectorindices)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(
      target ?? "",
    );
  if (!m?.[1] || !m[2])
    throw new UsageError(`name the resource as em/NAME or vi/NAME, got "${target ?? ""}"\n\n${help}`);
  return { kind: m[1].startsWith("e") ? "EmbeddingModel" : "VectorIndex", name: m[2] };
}

/** Local when a serve runs in the data dir (unless a cluster is named explicitly). */
function useCluster(f: Flags): boolean {
  if (f.kubeconfig || f.context) return true;
  const state = readServeState(f.dataDir);
  if (state && pidAlive(state.pid)) return false;
  if (existsSync(resolve(f.dataDir, "rollouts"))) return false;
  return process.env.KUBECONFIG !== undefined;
}

function localView(f: Flags, model: string): RolloutView {
  const file = readRolloutFile(f.dataDir, model);
  if (!file) {
    throw new Error(
      `no rollout state for em/${model} in ${f.dataDir}: is "embedops serve" running a file with EmbeddingModel "${model}"? (or pass --kubeconfig for a cluster)`,
    );
  }
  return {
    model,
    stableRevision: file.stableRevision,
    canary: file.canary,
    maxFailedChecks: file.maxFailedChecks,
    source: `embedops serve (${f.dataDir})`,
  };
}

interface ClusterModel extends KubernetesObject {
  spec?: { rollout?: { maxFailedChecks?: number } };
  status?: { revision?: string; canary?: CanaryStatus };
}

function cluster(f: Flags) {
  const kc = loadKubeConfig({ path: f.kubeconfig, context: f.context });
  const namespace = f.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  return { api: KubernetesObjectApi.makeApiClient(kc), namespace };
}

async function clusterView(f: Flags, model: string): Promise<RolloutView> {
  const { api, namespace } = cluster(f);
  const obj = (await api.read({
    apiVersion: API_VERSION,
    kind: "EmbeddingModel",
    metadata: { name: model, namespace },
  })) as ClusterModel;
  return {
    model,
    stableRevision: obj.status?.revision,
    canary: obj.status?.canary,
    maxFailedChecks: obj.spec?.rollout?.maxFailedChecks,
    source: `cluster (namespace ${namespace})`,
  };
}

/** What a command is delivered to: the resource, and under serve the command file and its outcome. */
interface CommandTarget {
  readonly kind: "EmbeddingModel" | "VectorIndex";
  readonly short: "em" | "vi";
  readonly name: string;
  readonly commandPath: string;
  /** The status line once serve acted on `value`, else undefined. */
  readonly actedOn: (value: string) => string | undefined;
}

/** A distinct value per invocation, so the same command can be given twice. */
const nonce = () => new Date().toISOString().replace(/[:.]/g, "");

/**
 * Under serve: the command file, then a wait for serve to act (its next tick: half a second, longer
 * while a tick starts an encoder or scrapes a slow one) to show the outcome. In a cluster: a merge
 * patch of the annotation only.
 */
async function deliverCommand(f: Flags, local: boolean, t: CommandTarget, value: string): Promise<string> {
  if (local) {
    replaceFile(t.commandPath, `${value}\n`);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const line = t.actedOn(value);
      if (line !== undefined) return line;
      await new Promise((r) => setTimeout(r, 200));
    }
    return `${ROLLOUT_COMMAND_ANNOTATION}=${value} written; embedops serve has not acted on it yet (is it running?)`;
  }
  const { api, namespace } = cluster(f);
  await api.patch(
    {
      apiVersion: API_VERSION,
      kind: t.kind,
      metadata: { name: t.name, namespace, annotations: { [ROLLOUT_COMMAND_ANNOTATION]: value } },
    },
    undefined,
    undefined,
    "embedops-cli",
    undefined,
    PatchStrategy.MergePatch,
  );
  return `${t.short}/${t.name}: annotated ${ROLLOUT_COMMAND_ANNOTATION}=${value}; the operator acts on it at its next reconcile`;
}

async function sendCommand(f: Flags, model: string, action: RolloutAction, local: boolean): Promise<string> {
  const view = local ? localView(f, model) : await clusterView(f, model);
  const revision = view.canary?.revision;
  if (!revision) throw new Error(`em/${model} has no rollout to ${action}`);
  return deliverCommand(
    f,
    local,
    {
      kind: "EmbeddingModel",
      short: "em",
      name: model,
      commandPath: rolloutCommandPath(f.dataDir, model),
      actedOn: (value) => {
        const now = readRolloutFile(f.dataDir, model);
        return now?.canary?.lastCommand === value
          ? formatRolloutView({ ...view, canary: now.canary })
          : undefined;
      },
    },
    formatRolloutCommand(action, revision, nonce()),
  );
}

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      "data-dir": { type: "string" },
      kubeconfig: { type: "string" },
      context: { type: "string" },
      namespace: { type: "string", short: "n" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${help}\n`);
    return;
  }
  const [verb, target] = positionals;
  const f: Flags = {
    json: values.json === true,
    dataDir: resolve(values["data-dir"] ?? defaultDataDir),
    kubeconfig: values.kubeconfig,
    context: values.context,
    namespace: values.namespace,
  };
  const resource = targetOf(target);
  const local = !useCluster(f);
  if (resource.kind === "VectorIndex") {
    await indexRollout(f, verb, resource.name, local);
    return;
  }
  const model = resource.name;
  if (verb === "status") {
    const view = local ? localView(f, model) : await clusterView(f, model);
    process.stdout.write(f.json ? `${JSON.stringify(view, null, 2)}\n` : `${formatRolloutView(view)}\n`);
    return;
  }
  if (!ROLLOUT_ACTIONS.includes(verb as RolloutAction)) {
    throw new UsageError(`unknown rollout command "${verb}"\n\n${help}`);
  }
  process.stdout.write(`${await sendCommand(f, model, verb as RolloutAction, local)}\n`);
}

interface ClusterIndex extends KubernetesObject {
  spec?: { rollout?: { maxFailedChecks?: number } };
  status?: { activeGeneration?: string; rollout?: GenerationRolloutStatus; backfillProgress?: string };
}

async function clusterIndexView(f: Flags, index: string): Promise<IndexRolloutView> {
  const { api, namespace } = cluster(f);
  const obj = (await api.read({
    apiVersion: API_VERSION,
    kind: "VectorIndex",
    metadata: { name: index, namespace },
  })) as ClusterIndex;
  return {
    index,
    activeGeneration: obj.status?.activeGeneration,
    rollout: obj.status?.rollout,
    backfill: obj.status?.backfillProgress,
    maxFailedChecks: obj.spec?.rollout?.maxFailedChecks,
    source: `cluster (namespace ${namespace})`,
  };
}

async function indexRollout(
  f: Flags,
  verb: string | undefined,
  index: string,
  local: boolean,
): Promise<void> {
  const view = local ? localIndexView(f.dataDir, index) : await clusterIndexView(f, index);
  if (verb === "status") {
    process.stdout.write(f.json ? `${JSON.stringify(view, null, 2)}\n` : `${formatIndexRolloutView(view)}\n`);
    return;
  }
  if (!ROLLOUT_ACTIONS.includes(verb as RolloutAction)) {
    throw new UsageError(`unknown rollout command "${verb}"\n\n${help}`);
  }
  const action = verb as RolloutAction;
  if (!view.rollout) throw new Error(`vi/${index} has no generation move to ${action}`);
  const line = await deliverCommand(
    f,
    local,
    {
      kind: "VectorIndex",
      short: "vi",
      name: index,
      commandPath: generationCommandPath(f.dataDir, index),
      actedOn: (value) => {
        const now = localIndexView(f.dataDir, index);
        return now.rollout?.lastCommand === value ? formatIndexRolloutView(now) : undefined;
      },
    },
    formatRolloutCommand(action, commandRevisionOf(view.rollout), nonce()),
  );
  process.stdout.write(`${line}\n`);
}
