import { z } from "zod";
import { labelName } from "./names.js";

const stringMap = (description: string) => z.record(z.string(), z.string()).describe(description);

/**
 * The part of ObjectMeta a YAML file carries. Fields the API server sets (uid, resourceVersion,
 * managedFields, ...) are accepted and ignored, so `kubectl get -o yaml` output still parses;
 * anything else is a typo and is rejected, as kubectl's strict validation does.
 */
export const ObjectMeta = z.strictObject({
  name: labelName("Object name."),
  namespace: labelName("Namespace; `embedops serve` ignores it.").optional(),
  labels: stringMap("Labels.").optional(),
  annotations: stringMap("Annotations.").optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullable().optional(),
  deletionTimestamp: z.string().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(z.unknown()).optional(),
  managedFields: z.array(z.unknown()).optional(),
  generateName: z.string().optional(),
});

export type ObjectMeta = z.output<typeof ObjectMeta>;
