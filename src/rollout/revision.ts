// Encoder revisions: a short hash of everything that goes into an encoder pod, so the stable and the
// candidate run side by side under deterministic names, and a re-apply of the same spec is no change.
//
// The input is the spec's parts, not a rendered pod template, so the Kubernetes shell and
// `embedops serve` (which has no pod template) compute the same revision for the same spec.
// Deliberately left out: replicas and autoscaling (scaling is not a new revision, or every scale-up
// would start a canary), the rollout policy (editing it must not roll anything), the model's name
// and namespace (a revision is always scoped to one EmbeddingModel), and shell-specific details
// (listen address, mount paths, labels) that follow from the spec anyway.
import type { EmbeddingModelSpec, ModelSource } from "../api/v1alpha1/index.js";
import { contentHash } from "../builders/hash.js";
import { encoderRuntimeArgs } from "../core/role-args.js";

/** Length of a revision: 10 hex characters (40 bits), like the builders' other content hashes. */
export const REVISION_LENGTH = 10;

/** The settings that decide what a vector means; a change here changes the fingerprint. */
export interface EmbeddingSpace {
  readonly dimension: number;
  readonly pooling: string;
  readonly normalize: boolean;
  readonly maxSequenceLength: number;
  readonly queryPrefix: string;
  readonly documentPrefix: string;
}

export interface EncoderRevisionInput {
  /** The container image; for `embedops serve`, the embedops version that runs the encoder. */
  readonly image: string;
  /** Encoder flags that follow from the spec (`encoderRuntimeArgs`), without address or port. */
  readonly args: readonly string[];
  /** Environment of the encoder container; empty and absent hash the same. */
  readonly env?: Readonly<Record<string, string>>;
  /** Container resources as written in the spec; empty and absent hash the same. */
  readonly resources?: EmbeddingModelSpec["runtime"]["resources"];
  /** Where the model directory comes from (a new sha256 or URL is a new revision). */
  readonly source: ModelSource;
  /**
   * The spec's declared embedding space. The encoder gets it as flags (`encoderSpaceArgs`, kept out
   * of `args`: `space` hashes the same settings, and `launch` marks that they are passed) and refuses to start
   * when it contradicts the model directory; a spec edit that declares a new space starts a candidate
   * whose /info fingerprint is compared with the stable's.
   */
  readonly space: EmbeddingSpace;
  /** The Secret key mounted as the encoder's API keys (its value is not hashed: rotating is no rollout). */
  readonly authSecretRef?: { readonly name: string; readonly key: string };
  /**
   * How an encoder is started from a spec (ENCODER_LAUNCH). A change to it is a new revision, so an
   * embedops upgrade that starts encoders differently canaries every model instead of replacing its
   * pods in place: a new effective fingerprint (e.g. a spec whose maxSequenceLength is below the
   * model directory's, applied since launch 2) is then held at NewGenerationRequired before it can
   * reach an index.
   */
  readonly launch?: number;
}

/** 2: the spec's embedding space is passed to the encoder as flags (encoderSpaceArgs). Absent: 1. */
export const ENCODER_LAUNCH = 2;

/** The revision input of a (defaulted) EmbeddingModel spec; `image` is the shell's default image. */
export function revisionInputOf(spec: EmbeddingModelSpec, defaultImage: string): EncoderRevisionInput {
  return {
    image: spec.runtime.image ?? defaultImage,
    args: encoderRuntimeArgs(spec.runtime),
    ...(spec.runtime.resources ? { resources: spec.runtime.resources } : {}),
    source: spec.source,
    space: {
      dimension: spec.dimension,
      pooling: spec.pooling,
      normalize: spec.normalize,
      maxSequenceLength: spec.maxSequenceLength,
      queryPrefix: spec.queryPrefix,
      documentPrefix: spec.documentPrefix,
    },
    ...(spec.authSecretRef ? { authSecretRef: spec.authSecretRef } : {}),
    launch: ENCODER_LAUNCH,
  };
}

const isEmpty = (v: object | undefined): boolean =>
  v === undefined || Object.values(v).every((x) => x === undefined || (typeof x === "object" && isEmpty(x)));

/**
 * First 10 hex characters of sha256 over the canonical JSON (keys sorted at every level, undefined
 * members dropped) of the input: the same spec always gives the same revision whatever order its
 * keys were written in. Argument order is kept: flags are positional.
 */
export function encoderRevision(input: EncoderRevisionInput): string {
  const { env, resources, ...rest } = input;
  return contentHash(
    {
      ...rest,
      ...(isEmpty(env) ? {} : { env }),
      ...(isEmpty(resources) ? {} : { resources }),
    },
    REVISION_LENGTH,
  );
}

/**
 * Whether the candidate's fingerprint differs from the stable's: undefined while either is unknown
 * (the candidate's is learned from its /info before any traffic moves).
 */
export function fingerprintChanged(
  stable: string | undefined,
  candidate: string | undefined,
): boolean | undefined {
  if (stable === undefined || candidate === undefined) return undefined;
  return stable.toLowerCase() !== candidate.toLowerCase();
}
