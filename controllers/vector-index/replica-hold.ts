// How many replicas per shard each running generation gets, pure. The same rule as serve's
// (src/local/replica-seeder.ts: `if (moving) return`): replica changes wait while a generation move
// runs, for both generations.
//   - N+1 keeps the count it was created with: read back from its shard StatefulSets, which survive
//     an operator restart (status would have to be written before the StatefulSets to be as safe).
//     Only the active generation is caught up after a raise (replica-sync.ts); a replica added to
//     N+1 mid-move would be seeded from its replica 0 and never get the writes after that copy.
//   - N (the active generation) keeps its count too, as under serve: its seeding flow
//     (Seeding/Syncing/Synced) finishes a raise that began before the move, and starts none during it.
//     A raise that began during the move would be pointless work on a generation about to be
//     replaced, and a lowering would drop replicas the routers and the backfill read from.
//   - N kept after a promotion (retainPrevious) serves nothing: it keeps its count, so no new pod
//     is seeded there and never caught up.
// Once the move ends (Succeeded or Failed) the active generation follows spec.replicas again and the
// active-generation flow seeds and catches up the replicas it adds (status.replicaSync).

export interface GenerationReplicasInput {
  /** spec.replicas */
  readonly specReplicas: number;
  /** The generation machine's status after this reconcile is a move (isMoving). */
  readonly moving: boolean;
  /** This generation is the one the routers serve (the machine's desired active generation). */
  readonly active: boolean;
  /** `spec.replicas` of this generation's shard StatefulSets that exist (informer cache); empty: none yet. */
  readonly running: readonly number[];
}

export interface GenerationReplicas {
  readonly replicas: number;
  /** A move runs and spec.replicas differs from the count kept: the change waits for the move. */
  readonly waits: boolean;
}

export function generationReplicas(i: GenerationReplicasInput): GenerationReplicas {
  // A generation with no StatefulSets yet is created with spec.replicas: its replicas start together.
  if (i.running.length === 0 || (i.active && !i.moving)) return { replicas: i.specReplicas, waits: false };
  // The shards were created together with one count; a shard whose StatefulSet still runs more
  // (a raise began on it before the move) keeps them rather than dropping a seeded replica.
  const replicas = Math.max(...i.running);
  return { replicas, waits: i.moving && replicas !== i.specReplicas };
}

/** The condition message and Event note while spec.replicas waits; undefined when nothing waits. */
export function replicaWaitMessage(
  specReplicas: number,
  kept: readonly { readonly generation: string; readonly replicas: number }[],
): string | undefined {
  if (kept.length === 0) return undefined;
  const each = kept.map((k) => `${k.generation} keeps ${k.replicas}`).join(", ");
  return (
    `replica change waits for the generation move: spec.replicas ${specReplicas} applies to the ` +
    `active generation once the move ends (promoted or failed); per shard, ${each}`
  );
}
