import { labelName, MAX_OWNER_NAME } from "./names.js";
import { ObjectMeta } from "./object-meta.js";

/** Metadata of kinds whose name prefixes child objects: see MAX_OWNER_NAME. */
export const ownerMeta = ObjectMeta.extend({
  name: labelName("Object name.").max(MAX_OWNER_NAME, `must be at most ${MAX_OWNER_NAME} characters`),
});

/**
 * The CRD cannot bound metadata.name in its OpenAPI part, so the API server checks it in CEL; the
 * zod side is ownerMeta's own bound.
 */
export function ownerNameRule(kind: string) {
  return {
    rule: `self.metadata.name.size() <= ${MAX_OWNER_NAME}`,
    message:
      `metadata.name must be at most ${MAX_OWNER_NAME} characters: ` +
      `it prefixes the names of the ${kind}'s pods and services`,
  };
}
