import { z } from "zod";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * EmbeddingModel and VectorIndex names become prefixes of Deployment, StatefulSet, Service and
 * pod names (plus suffixes such as "-g12-s63-4" and a 10-char revision hash), which must stay
 * within 63 characters; 40 leaves room for those suffixes.
 */
export const MAX_OWNER_NAME = 40;

/** Name of another object of ours (an RFC 1123 label). */
export function labelName(description: string) {
  return z
    .string()
    .min(1)
    .max(63)
    .regex(LABEL, "must be a lowercase RFC 1123 label: a-z, 0-9 and '-', starting and ending alphanumeric")
    .describe(description);
}

/** Name of a Secret, ConfigMap or PersistentVolumeClaim (an RFC 1123 subdomain). */
export function objectName(description: string) {
  return z
    .string()
    .min(1)
    .max(253)
    .regex(SUBDOMAIN, "must be a lowercase RFC 1123 subdomain: a-z, 0-9, '-' and '.'")
    .describe(description);
}

export const ownerNamePattern = LABEL;
