// Which shard owns a document id. The mapping must be identical across restarts, router replicas,
// languages and versions, because a document written to shard 2 is only ever found, updated or
// deleted there. The rule, so any client can reproduce it:
//
//   shard = FNV-1a-32(UTF-8 bytes of the id) mod shardCount
//
// FNV-1a 32-bit: h = 0x811c9dc5; for each byte b: h = (h XOR b) * 0x01000193 mod 2^32.
// Changing shardCount moves most ids: resharding means a new index generation (a re-embed/backfill),
// never an in-place change of this function.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

export function fnv1a32(text: string): number {
  let h = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

export function shardForId(id: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  }
  return fnv1a32(id) % shardCount;
}
