// A file copied and hashed in one pass (read, sha256, write, fsync), with large reads overlapping the
// writes: what a snapshot copy costs is then about one read and one write of the data, not a copy
// followed by a second read to hash it.
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

const CHUNK = 4 * 1024 * 1024;

/** Copies `from` to the new file `to` (fsynced), returning the size and sha256 of what was written. */
export async function copyHashed(from: string, to: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let at = 0;
  const src = await open(from, "r");
  try {
    const dst = await open(to, "wx");
    try {
      const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)] as const;
      let turn: 0 | 1 = 0;
      let reading = src.read(bufs[0], 0, CHUNK, 0);
      for (;;) {
        const { bytesRead } = await reading;
        if (bytesRead === 0) break;
        const chunk = bufs[turn].subarray(0, bytesRead);
        const position = at;
        at += bytesRead;
        turn = turn === 0 ? 1 : 0;
        // The next read fills the other buffer while this one is hashed and written.
        reading = src.read(bufs[turn], 0, CHUNK, at);
        try {
          hash.update(chunk);
          await dst.write(chunk, 0, bytesRead, position);
        } catch (err) {
          await reading.catch(() => {}); // settle the read in flight before the file closes
          throw err;
        }
      }
      await dst.sync();
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
  return { bytes: at, sha256: hash.digest("hex") };
}
