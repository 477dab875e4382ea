// An index generation is named after the model fingerprint it was built with, so the same
// spec always yields the same children (no random names for GitOps tools to see as drift), and a
// model change that alters the fingerprint starts a new generation by construction.

export const generationPrefix = "g-";

export function generationName(fingerprint: string): string {
  if (!/^[0-9a-f]{12,}$/.test(fingerprint)) {
    throw new Error(
      `a generation needs a hex model fingerprint of at least 12 characters, got "${fingerprint}"`,
    );
  }
  return `${generationPrefix}${fingerprint.slice(0, 12)}`;
}

/** The shard names of one generation, in order: shard-0 … shard-(n-1). */
export function shardNames(shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `shard-${i}`);
}
