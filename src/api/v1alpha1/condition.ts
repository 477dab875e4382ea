import { z } from "zod";
import { listMap } from "./kube-extensions.js";

/** Condition types every resource reports; controllers add domain ones (e.g. "InvalidSpec"). */
export const ConditionType = {
  Ready: "Ready",
  Progressing: "Progressing",
  Degraded: "Degraded",
} as const;

export const ConditionStatus = z.enum(["True", "False", "Unknown"]);

/** RFC 3339 time as Kubernetes writes it ("2026-01-02T03:04:05Z"). */
export const Timestamp = z.iso.datetime({ offset: true });

// Same shape and bounds as metav1.Condition, so `kubectl wait --for=condition=Ready` and GitOps
// health checks read it without custom code.
export const Condition = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
    )
    .describe("Condition type in CamelCase: Ready, Progressing, Degraded or a domain one."),
  status: ConditionStatus.describe("True, False or Unknown."),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("metadata.generation the condition was set from."),
  lastTransitionTime: Timestamp.describe("When status last changed."),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .describe("CamelCase reason for the last transition."),
  message: z.string().max(32768).describe("Human-readable details."),
});

export const Conditions = listMap(z.array(Condition).max(32).describe("Latest observations, one per type."), [
  "type",
]);

export type Condition = z.output<typeof Condition>;
