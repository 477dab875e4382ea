import { describe, expect, it } from "vitest";
import { EmbeddingModelSpec, type EmbeddingModelSpec as Spec } from "../../../src/api/v1alpha1/index.js";
import {
  type EncoderRevisionInput,
  encoderRevision,
  fingerprintChanged,
  REVISION_LENGTH,
  revisionInputOf,
} from "../../../src/rollout/revision.js";

const IMAGE = "ghcr.io/embedops/embedops:0.1.0";
const spec = (overrides: Record<string, unknown> = {}): Spec =>
  EmbeddingModelSpec.parse({
    source: { path: "/models/minilm" },
    dimension: 384,
    pooling: "mean",
    ...overrides,
  });
const revisionOf = (overrides: Record<string, unknown> = {}, image = IMAGE) =>
  encoderRevision(revisionInputOf(spec(overrides), image));

const base = revisionOf();

describe("encoderRevision", () => {
  it("when computed, then it is 10 lowercase hex characters and the same every time", () => {
    expect(base).toMatch(new RegExp(`^[0-9a-f]{${REVISION_LENGTH}}$`));
    expect(revisionOf()).toBe(base);
  });

  it("when the same input is written with its keys in another order, then the revision is the same", () => {
    const input = revisionInputOf(
      spec({ runtime: { resources: { requests: { cpu: "1", memory: "1Gi" } } } }),
      IMAGE,
    );
    const reordered: EncoderRevisionInput = {
      launch: input.launch ?? 0,
      space: { ...input.space },
      source: input.source,
      resources: { requests: { memory: "1Gi", cpu: "1" } },
      args: input.args,
      image: input.image,
    };
    expect(encoderRevision(reordered)).toBe(encoderRevision(input));
  });

  it("when encoders are started another way (the launch marker), then every revision changes: an upgrade canaries instead of replacing pods in place", () => {
    const input = revisionInputOf(spec(), IMAGE);
    expect(input.launch).toBe(2);
    expect(encoderRevision({ ...input, launch: 1 })).not.toBe(base);
  });

  it("when env or resources are empty, then they hash like absent ones", () => {
    const input = revisionInputOf(spec(), IMAGE);
    expect(encoderRevision({ ...input, env: {} })).toBe(base);
    expect(encoderRevision({ ...input, resources: { requests: {} } })).toBe(base);
    expect(encoderRevision({ ...input, env: { A: "1" } })).not.toBe(base);
  });

  // Everything that goes into an encoder pod is a new revision...
  it.each<[string, Record<string, unknown>, string?]>([
    ["the image", {}, "ghcr.io/embedops/embedops:0.2.0"],
    ["the runtime.image", { runtime: { image: "registry.example/encoder:2" } }],
    ["threads", { runtime: { threads: 4 } }],
    ["maxBatchTokens", { runtime: { maxBatchTokens: 8192 } }],
    ["maxBatchRequests", { runtime: { maxBatchRequests: 16 } }],
    ["maxConcurrentRequests", { runtime: { maxConcurrentRequests: 64 } }],
    ["resources", { runtime: { resources: { limits: { memory: "2Gi" } } } }],
    ["the model path", { source: { path: "/models/other" } }],
    ["the model sha256", { source: { path: "/models/minilm", sha256: "a".repeat(64) } }],
    ["the model URL", { source: { http: { url: "https://x.example/m.tgz", sha256: "b".repeat(64) } } }],
    ["pooling", { pooling: "cls" }],
    ["normalize", { normalize: false }],
    ["the dimension", { dimension: 768 }],
    ["maxSequenceLength", { maxSequenceLength: 512 }],
    ["the query prefix", { queryPrefix: "query: " }],
    ["the document prefix", { documentPrefix: "passage: " }],
    ["the auth Secret", { authSecretRef: { name: "enc-auth", key: "token" } }],
  ])("when %s changes, then the revision changes", (_what, overrides, image) => {
    expect(revisionOf(overrides, image ?? IMAGE)).not.toBe(base);
  });

  // ...and nothing else is.
  it.each<[string, Record<string, unknown>]>([
    ["replicas", { runtime: { replicas: 5 } }],
    ["autoscaling", { runtime: { autoscaling: { maxReplicas: 4 } } }],
    [
      "the rollout policy",
      { rollout: { stepWeights: [5, 25, 50], maxFailedChecks: 3, slo: { maxP99LatencyMs: 50 } } },
    ],
  ])(
    "when only %s changes, then the revision stays (no canary for a scale or a policy edit)",
    (_what, overrides) => {
      expect(revisionOf(overrides)).toBe(base);
    },
  );

  it("when the image is the spec's runtime.image, then the shell's default image does not matter", () => {
    const pinned = { runtime: { image: "registry.example/encoder:2" } };
    expect(revisionOf(pinned, "a:1")).toBe(revisionOf(pinned, "b:2"));
  });
});

describe("fingerprintChanged", () => {
  const fp = "ab".repeat(32);
  it.each<[string | undefined, string | undefined, boolean | undefined]>([
    [fp, fp, false],
    [fp, fp.toUpperCase(), false],
    [fp, "cd".repeat(32), true],
    [fp, undefined, undefined],
    [undefined, fp, undefined],
    [undefined, undefined, undefined],
  ])("when stable is %s and candidate %s, then it answers %s", (stable, candidate, expected) => {
    expect(fingerprintChanged(stable, candidate)).toBe(expected);
  });
});
