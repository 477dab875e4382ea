// Size and sha256 of a local file, streamed: what a manifest records and what verifyFile checks. And
// the same digest taken of a stream while it passes on to its destination, so a file is hashed in the
// one pass that moves it rather than read again afterwards.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface Digest {
  readonly bytes: number;
  readonly sha256: string;
}

export async function fileDigest(path: string): Promise<Digest> {
  const hash = createHash("sha256");
  let bytes = 0;
  await pipeline(
    createReadStream(path, { highWaterMark: 1024 * 1024 }),
    async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) {
        hash.update(c);
        bytes += c.length;
      }
    },
  );
  return { bytes, sha256: hash.digest("hex") };
}

/** `source` passed through unchanged; `digest()` is valid once the returned stream has ended. */
export function digesting(source: AsyncIterable<Buffer | Uint8Array | string>): {
  stream: Readable;
  digest: () => Digest;
} {
  const hash = createHash("sha256");
  let bytes = 0;
  let done = false;
  async function* pass(): AsyncGenerator<Buffer> {
    for await (const c of source) {
      const buf =
        typeof c === "string"
          ? Buffer.from(c)
          : Buffer.isBuffer(c)
            ? c
            : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      hash.update(buf);
      bytes += buf.length;
      yield buf;
    }
    done = true;
  }
  let sha256: string | undefined;
  return {
    stream: Readable.from(pass(), { objectMode: false }),
    digest: () => {
      if (!done) throw new Error("digest asked for before the stream ended");
      sha256 ??= hash.digest("hex");
      return { bytes, sha256 };
    },
  };
}
