// VectorIndex moving to generation N+1 -> the backfill: its plan (src/generation/plan.ts) in a
// ConfigMap and a Job running `embedops backfill --plan` with the operator's image. The plan is
// rendered from the same shard URLs and encoder Services the router config names, so the backfill
// reads and writes exactly what the routers serve. The Job's template never changes for a given
// generation (the plan lives in the ConfigMap), so re-applying it is a no-op, not an immutable-field
// error.
import type { V1ConfigMap, V1Job } from "@kubernetes/client-node";
import { childMeta, type OwnerContext } from "./context.js";
import { encoderRevisionUrl } from "./encoder-service.js";
import { generationOf, type IndexProps, type OtherGeneration, withGeneration } from "./index-props.js";
import { backfillSelector, withCommon } from "./labels.js";
import { backfillName } from "./names.js";
import { containerSecurityContext, podSecurityContext } from "./pod-security.js";
import { encoderConfig, generationShards } from "./router-config.js";
import { ENCODER_AUTH_MOUNT } from "./router-deployment.js";

export const BACKFILL_MOUNT = "/etc/embedops/backfill";
export const BACKFILL_PLAN_KEY = "plan.json";
const ENCODER_KEY_FILE = "encoder-key";
/** `embedops backfill` exits 2 on a bad plan and 3 when documents had no text: retrying cannot help. */
const FINAL_EXIT_CODES = [2, 3];
/** Other failures (a shard restarting, the encoder busy) are retried; each run resumes from the cursor. */
const BACKOFF_LIMIT = 20;

/**
 * The plan that copies the active generation (`props`) into `candidate`. With the stable encoder's
 * revision known, the latency guard slows the backfill when the stable's p99 nears the SLO.
 */
export function backfillPlanJson(
  props: IndexProps,
  candidate: OtherGeneration,
  namespace: string,
): Record<string, unknown> {
  const to = withGeneration(props, candidate);
  const stable = props.encoder?.revision;
  return {
    index: props.index,
    from: {
      generation: generationOf(props),
      fingerprint: props.fingerprint,
      shards: generationShards(props, namespace),
    },
    to: {
      generation: generationOf(to),
      fingerprint: to.fingerprint,
      shards: generationShards(to, namespace),
      encoder: { url: (encoderConfig(to, namespace) as { url: string }).url },
    },
    writeQuorum: props.spec.writeQuorum ?? "all",
    maxDocumentsPerSecond: props.spec.rollout.backfill.maxDocumentsPerSecond,
    ...(stable !== undefined
      ? {
          latencyGuard: {
            metricsUrl: `${encoderRevisionUrl(props.model, stable, namespace)}/metrics`,
            revision: stable,
            maxP99Ms: props.spec.rollout.slo.maxP99LatencyMs,
          },
        }
      : {}),
  };
}

export function backfillConfigMap(
  ctx: OwnerContext,
  props: IndexProps,
  candidate: OtherGeneration,
): V1ConfigMap {
  const generation = generationOf(withGeneration(props, candidate));
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: childMeta(
      ctx,
      backfillName(props.index, generation),
      withCommon(backfillSelector(props.index, generation), ctx.ownerLabels),
    ),
    data: {
      [BACKFILL_PLAN_KEY]: `${JSON.stringify(backfillPlanJson(props, candidate, ctx.namespace), null, 2)}\n`,
    },
  };
}

export function backfillJob(ctx: OwnerContext, props: IndexProps, candidate: OtherGeneration): V1Job {
  const generation = generationOf(withGeneration(props, candidate));
  const name = backfillName(props.index, generation);
  const labels = withCommon(backfillSelector(props.index, generation), ctx.ownerLabels);
  const key = props.encoderAuth;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: childMeta(ctx, name, labels),
    spec: {
      backoffLimit: BACKOFF_LIMIT,
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: { containerName: "backfill", operator: "In", values: FINAL_EXIT_CODES },
          },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          // podFailurePolicy needs Never: each retry is a new pod, counted against backoffLimit.
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          securityContext: podSecurityContext(),
          // SIGTERM stops after the current batch and saves the cursor.
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: "backfill",
              image: ctx.image,
              imagePullPolicy: "IfNotPresent",
              args: [
                "backfill",
                "--plan",
                `${BACKFILL_MOUNT}/${BACKFILL_PLAN_KEY}`,
                ...(key ? ["--encoder-key-file", `${ENCODER_AUTH_MOUNT}/${ENCODER_KEY_FILE}`] : []),
              ],
              securityContext: containerSecurityContext(),
              volumeMounts: [
                { name: "plan", mountPath: BACKFILL_MOUNT, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
                ...(key ? [{ name: "encoder-auth", mountPath: ENCODER_AUTH_MOUNT, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: "plan", configMap: { name } },
            { name: "tmp", emptyDir: {} },
            ...(key
              ? [
                  {
                    name: "encoder-auth",
                    secret: {
                      secretName: key.name,
                      items: [{ key: key.key, path: ENCODER_KEY_FILE }],
                      defaultMode: 0o440,
                    },
                  },
                ]
              : []),
          ],
        },
      },
    },
  };
}
