import { z } from "zod";
import { labelName, objectName } from "./names.js";

/** A reference by name to an object in the same namespace. */
export function localRef(description: string, what: string) {
  return z
    .strictObject({ name: labelName(`Name of the ${what} in the same namespace.`) })
    .describe(description);
}

export const SecretKeyRef = z
  .strictObject({
    name: objectName("Secret name, same namespace."),
    key: z.string().min(1).max(253).describe("Key within the Secret."),
  })
  .describe("A key of a Secret in the same namespace.");

export const ConfigMapKeyRef = z
  .strictObject({
    name: objectName("ConfigMap name, same namespace."),
    key: z.string().min(1).max(253).describe("Key within the ConfigMap."),
  })
  .describe("A key of a ConfigMap in the same namespace.");

export const PvcRef = z
  .strictObject({ claimName: objectName("PersistentVolumeClaim name, same namespace.") })
  .describe("A PersistentVolumeClaim in the same namespace.");
