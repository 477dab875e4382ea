import { z } from "zod";
import { cel } from "./kube-extensions.js";
import { quantity } from "./quantity.js";

const CpuMemory = (what: string) =>
  z
    .strictObject({
      cpu: quantity(`CPU ${what}, e.g. "500m" or 2.`).optional(),
      memory: quantity(`Memory ${what}, e.g. "1Gi".`).optional(),
    })
    .optional()
    .describe(`Container ${what}.`);

export const ResourceRequirements = z
  .strictObject({ requests: CpuMemory("requests"), limits: CpuMemory("limits") })
  .describe("CPU and memory of each encoder container.");

export const Autoscaling = cel(
  z
    .strictObject({
      minReplicas: z.number().int().min(1).max(100).default(1).describe("Lower bound for the autoscaler."),
      maxReplicas: z.number().int().min(1).max(100).describe("Upper bound for the autoscaler."),
      targetCPUUtilizationPercentage: z
        .number()
        .int()
        .min(1)
        .max(100)
        .default(70)
        .describe("Average CPU utilisation the autoscaler aims for."),
    })
    .describe("A HorizontalPodAutoscaler for the encoder; when set it owns the replica count."),
  [
    {
      rule: "self.minReplicas <= self.maxReplicas",
      message: "autoscaling.minReplicas must be <= autoscaling.maxReplicas",
      fieldPath: ".minReplicas",
      check: (a) => a.minReplicas <= a.maxReplicas,
    },
  ],
);

// Batching defaults follow text-embeddings-inference, whose users already tuned them.
export const EncoderRuntime = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe("Encoder container image; default: the operator's own image."),
    replicas: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(1)
      .describe("Encoder pods; ignored while autoscaling is set."),
    threads: z.number().int().min(1).max(64).default(2).describe("ONNX Runtime intra-op threads per pod."),
    maxBatchTokens: z
      .number()
      .int()
      .min(1)
      .max(1048576)
      .default(16384)
      .describe("A batch closes before it would exceed this many tokens."),
    maxBatchRequests: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(32)
      .describe("A batch closes at this many requests."),
    maxConcurrentRequests: z
      .number()
      .int()
      .min(1)
      .max(100000)
      .default(512)
      .describe("Queued plus running requests beyond which the encoder answers 429."),
    resources: ResourceRequirements.optional(),
    autoscaling: Autoscaling.optional(),
  })
  .prefault({})
  .describe("How the encoder runs.");

export type EncoderRuntime = z.output<typeof EncoderRuntime>;
