import { describe, expect, it } from "vitest";
import { resolveModel } from "../../../controllers/vector-index/resolve-model.js";
import { FINGERPRINT, index, model } from "../builders/fixtures.js";

const withFingerprint = (m = model()) => ({ ...m, status: { fingerprint: FINGERPRINT } });

describe("resolveModel", () => {
  it.each([
    ["the model does not exist", index().spec, { found: false } as const, "ModelNotFound", false],
    [
      "the model is invalid",
      index().spec,
      { found: true, invalid: "spec.dimension: bad" } as const,
      "ModelInvalid",
      false,
    ],
    [
      "spec.dimension differs from the model's",
      index({ dimension: 768 }).spec,
      { found: true, model: withFingerprint() },
      "DimensionMismatch",
      true,
    ],
    [
      "the model has no fingerprint yet",
      index().spec,
      { found: true, model: model() },
      "WaitingForFingerprint",
      false,
    ],
  ])("when %s, then the index is not resolved with that reason", (_what, spec, lookup, reason, specError) => {
    const r = resolveModel(spec, "ns", lookup);
    expect(r).toMatchObject({ ok: false, reason, specError });
  });

  it("when the model is missing, then the message names the model, the namespace and the field to fix", () => {
    const r = resolveModel(index().spec, "ns", { found: false });
    expect(r.ok ? "" : r.message).toContain('EmbeddingModel "minilm" not found in namespace "ns"');
    expect(r.ok ? "" : r.message).toContain("spec.modelRef.name");
  });

  it("when the model reports a fingerprint and dimensions agree, then the index resolves to it", () => {
    expect(
      resolveModel(index({ dimension: 384 }).spec, "ns", { found: true, model: withFingerprint() }),
    ).toEqual({
      ok: true,
      model: "minilm",
      fingerprint: FINGERPRINT,
      dimension: 384,
    });
  });

  it("when the model's encoder wants a key, then the resolution carries its Secret key for the router", () => {
    const m = withFingerprint(model({ authSecretRef: { name: "encoder-auth", key: "token" } }));
    expect(resolveModel(index().spec, "ns", { found: true, model: m })).toMatchObject({
      ok: true,
      encoderAuth: { name: "encoder-auth", key: "token" },
    });
  });

  const canary = (phase: string, weight: number, stableRevision = "aaaaaaaaaa") => ({
    phase,
    revision: "bbbbbbbbbb",
    stableRevision,
    weight,
    stepIndex: 0,
    failedChecks: 0,
    inconclusiveChecks: 0,
    startedAt: "2026-01-01T00:00:00Z",
  });
  it.each([
    ["no revision yet", {}, undefined],
    ["a stable revision alone", { revision: "aaaaaaaaaa" }, { revision: "aaaaaaaaaa" }],
    [
      "a canary taking 10%",
      { revision: "aaaaaaaaaa", canary: canary("Progressing", 10) },
      { revision: "aaaaaaaaaa", canary: { revision: "bbbbbbbbbb", weight: 10 } },
    ],
    [
      "a candidate held for a new fingerprint (weight 0)",
      { revision: "aaaaaaaaaa", canary: canary("Paused", 0) },
      { revision: "aaaaaaaaaa" },
    ],
    [
      "a canary record of an older stable",
      { revision: "cccccccccc", canary: canary("Progressing", 10) },
      { revision: "cccccccccc" },
    ],
  ])("when the model has %s, then the router's encoders follow", (_c, status, expected) => {
    const m = { ...model(), status: { fingerprint: FINGERPRINT, ...status } } as ReturnType<typeof model>;
    const r = resolveModel(index().spec, "ns", { found: true, model: m });
    expect(r.ok && r.encoder).toEqual(expected ?? undefined);
    // The generation is named by the stable's fingerprint whatever the candidate reports.
    expect(r.ok && r.fingerprint).toBe(FINGERPRINT);
  });
});
