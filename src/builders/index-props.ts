// What the index builders need: the VectorIndex spec plus what the operator resolved from its
// EmbeddingModel (the fingerprint names the generation; the dimension sizes the vectors).
import type { VectorIndexSpec } from "../api/v1alpha1/index.js";
import { generationName, shardNames } from "../core/generation.js";
import type { SecretKey } from "./router-auth.js";

export interface IndexProps {
  readonly index: string;
  readonly spec: VectorIndexSpec;
  readonly model: string;
  /** The model fingerprint the generation is built with (hex, at least 12 characters). */
  readonly fingerprint: string;
  /** The model's dimension (spec.dimension, when set, has been checked to equal it). */
  readonly dimension: number;
  /**
   * The model's stable encoder revision (status.revision) and a canary beside it while one takes
   * traffic (status.canary at weight > 0). Undefined: the model's main Service (every revision).
   */
  readonly encoder?: EncoderRouting | undefined;
  /** The model's authSecretRef, when its encoder wants a key. */
  readonly encoderAuth?: SecretKey | undefined;
  /**
   * New replicas being seeded (controllers/vector-index/replica-seeding.ts): the router config lists
   * them as `syncing` (written to, not queried). Only for the generation it names.
   */
  readonly syncing?: SyncingReplicas | undefined;
}

export interface SyncingReplicas {
  readonly generation: string;
  /** Per shard name, the replica ordinals. */
  readonly replicas: ReadonlyMap<string, readonly number[]>;
}

export interface EncoderRouting {
  readonly revision: string;
  readonly canary?: { readonly revision: string; readonly weight: number } | undefined;
}

/**
 * A generation other than the active one (props.fingerprint): N+1 while an index moves to a new
 * model fingerprint (controllers/README.md "Generations"), or N kept for a while after a promotion.
 */
export interface OtherGeneration {
  readonly fingerprint: string;
  /** The encoder revision that serves its fingerprint (the model's candidate revision for N+1). */
  readonly encoder?: EncoderRouting | undefined;
  /**
   * Its replicas per shard when they differ from spec.replicas: a change of spec.replicas waits while
   * a generation move runs (controllers/vector-index/replica-hold.ts). Undefined: spec.replicas.
   */
  readonly replicas?: number | undefined;
}

/** What runs besides the active generation. Absent fields: nothing. */
export interface IndexGenerations {
  /** N+1: its shards run; the routers write to it (and send it queryWeight % of queries) when inRouters. */
  readonly candidate?:
    | (OtherGeneration & { readonly inRouters: boolean; readonly queryWeight: number })
    | undefined;
  /** Run the backfill Job from the active generation into the candidate. */
  readonly backfill?: boolean | undefined;
  /** Generations whose shards are kept but serve nothing (N after a promotion, for retainPrevious). */
  readonly retained?: readonly OtherGeneration[] | undefined;
}

/** The same index, built for another generation: its shards, its encoder, its replica count. */
export function withGeneration(props: IndexProps, other: OtherGeneration): IndexProps {
  return {
    ...props,
    ...withReplicas(props, other.replicas),
    fingerprint: other.fingerprint,
    encoder: other.encoder,
  };
}

/** `props` with `replicas` per shard instead of spec.replicas (the StatefulSets, the router config). */
export function withReplicas(props: IndexProps, replicas: number | undefined): IndexProps {
  return replicas === undefined || replicas === props.spec.replicas
    ? props
    : { ...props, spec: { ...props.spec, replicas } };
}

export function generationOf(props: IndexProps): string {
  return generationName(props.fingerprint);
}

export function shardsOf(props: IndexProps): string[] {
  return shardNames(props.spec.shards);
}
