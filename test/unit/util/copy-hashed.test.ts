import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyHashed, startCopyHashed } from "../../../src/util/copy-hashed.js";
import { hashFile } from "../../../src/util/hash-file.js";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "embedops-copy-hashed-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("hashFile", () => {
  it("when a file is small, then it is hashed on the calling thread with its size", async () => {
    const data = randomBytes(100_000);
    await writeFile(join(dir, "s.bin"), data);
    expect(await hashFile(join(dir, "s.bin"))).toEqual({ bytes: data.length, sha256: sha(data) });
  });

  it("when a file is large (a worker hashes it), then size and sha256 are those of its bytes", async () => {
    // 9 MiB + 1 byte: over the worker threshold, and the last read is a short one.
    const data = randomBytes(9 * 1024 * 1024 + 1);
    await writeFile(join(dir, "l.bin"), data);
    expect(await hashFile(join(dir, "l.bin"))).toEqual({ bytes: data.length, sha256: sha(data) });
  });

  it("when more large files are hashed at once than there are workers, then each gets its own digest", async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({
      path: join(dir, `f${i}.bin`),
      data: randomBytes(8 * 1024 * 1024 + i),
    }));
    for (const f of files) await writeFile(f.path, f.data);
    const digests = await Promise.all(files.map((f) => hashFile(f.path)));
    expect(digests).toEqual(files.map((f) => ({ bytes: f.data.length, sha256: sha(f.data) })));
  });

  it("when the file is empty, then it has 0 bytes and the empty sha256", async () => {
    await writeFile(join(dir, "e.bin"), "");
    expect(await hashFile(join(dir, "e.bin"))).toEqual({ bytes: 0, sha256: sha(Buffer.alloc(0)) });
  });

  it("when the file is missing, then it rejects with ENOENT", async () => {
    await expect(hashFile(join(dir, "none"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("copyHashed", () => {
  it("when a large file is copied, then the copy is byte-identical and the digest is the copy's", async () => {
    const data = randomBytes(12 * 1024 * 1024 + 7);
    await writeFile(join(dir, "from"), data);
    const d = await copyHashed(join(dir, "from"), join(dir, "to"));
    expect(d).toEqual({ bytes: data.length, sha256: sha(data) });
    expect((await readFile(join(dir, "to"))).equals(data)).toBe(true);
  });

  it("when the copy is started, then its bytes are in place before the digest is asked for", async () => {
    const data = randomBytes(10 * 1024 * 1024);
    await writeFile(join(dir, "from"), data);
    const started = await startCopyHashed(join(dir, "from"), join(dir, "to"));
    // The source may change once the copy resolved (a shard's writers go on): the digest is the copy's.
    await writeFile(join(dir, "from"), "changed");
    expect(await started.done).toEqual({ bytes: data.length, sha256: sha(data) });
  });

  it("when the destination exists, then it refuses and leaves it untouched", async () => {
    await writeFile(join(dir, "from"), "new");
    await writeFile(join(dir, "to"), "old");
    await expect(copyHashed(join(dir, "from"), join(dir, "to"))).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readFile(join(dir, "to"), "utf8")).toBe("old");
  });

  it("when the source is missing, then it rejects and no destination appears", async () => {
    await expect(copyHashed(join(dir, "none"), join(dir, "to"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await readdir(dir)).toEqual([]);
  });
});
