// Size and sha256 of a local file, streamed: what a manifest records and what verifyFile checks.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";

export async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  await pipeline(createReadStream(path), async (chunks: AsyncIterable<Buffer>) => {
    for await (const c of chunks) {
      hash.update(c);
      bytes += c.length;
    }
  });
  return { bytes, sha256: hash.digest("hex") };
}
