// The embedops.dev/v1alpha1 API: zod schemas are the single source of the TypeScript types, the
// generated CRDs and the validation `embedops serve` applies.
export * from "./condition.js";
export * from "./duration.js";
export * from "./embedding-model.js";
export * from "./group.js";
export * from "./index-snapshot.js";
export * from "./kinds.js";
export * from "./model-source.js";
export * from "./object-meta.js";
export * from "./parse.js";
export * from "./quantity.js";
export * from "./rollout-policy.js";
export * from "./runtime.js";
export * from "./snapshot-policy.js";
export * from "./vector-index.js";
