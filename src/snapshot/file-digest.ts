// The size and sha256 of a stream taken while it passes on to its destination (what a manifest records
// and verifyFile checks), so a file is hashed in the one pass that moves it rather than read again
// afterwards. A local file's digest: src/util/hash-file.ts.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { FileDigest } from "../util/hash-file.js";

/** `source` passed through unchanged; `digest()` is valid once the returned stream has ended. */
export function digesting(source: AsyncIterable<Buffer | Uint8Array | string>): {
  stream: Readable;
  digest: () => FileDigest;
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
