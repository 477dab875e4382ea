import { z } from "zod";
import { INT_OR_STRING } from "./kube-extensions.js";

// The pattern Kubernetes itself publishes for resource.Quantity.
const QUANTITY =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;

const QUANTITY_HINT = 'must be a Kubernetes quantity such as "500m", 2, "512Mi" or "10Gi"';

/**
 * A resource quantity. Int-or-string, as in Kubernetes itself (`cpu: 2` and `cpu: "500m"` both
 * apply); the generator turns it into the structural `x-kubernetes-int-or-string` form.
 */
export function quantity(description: string) {
  return z
    .union([z.number().int().min(0), z.string().regex(QUANTITY, QUANTITY_HINT)], { error: QUANTITY_HINT })
    .meta({ description, [INT_OR_STRING]: true });
}

export type Quantity = z.output<ReturnType<typeof quantity>>;
