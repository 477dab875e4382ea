import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyFileAtomically, writeFileAtomically } from "../../../src/snapshot/atomic-file.js";

describe("writeFileAtomically", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "embedops-atomic-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("when the source ends, then the file appears whole under its name and nothing else is left", async () => {
    const counts: number[] = [];
    const n = await writeFileAtomically(
      join(dir, "a", "f.bin"),
      Readable.from([Buffer.from("abc"), "de"]),
      (w) => counts.push(w),
    );
    expect(n).toBe(5);
    expect(counts).toEqual([3, 5]);
    expect(await readFile(join(dir, "a", "f.bin"), "utf8")).toBe("abcde");
    expect(await readdir(join(dir, "a"))).toEqual(["f.bin"]);
  });

  it("when half the data is written, then only a .partial- file exists, not the final name", async () => {
    const source = new PassThrough();
    const done = writeFileAtomically(join(dir, "f.bin"), source);
    source.write("half");
    // Wait until the half has reached the temp file.
    for (let i = 0; i < 100 && (await readdir(dir)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 5));
    const names = await readdir(dir);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(/^\.partial-f\.bin-[0-9a-f]{8}$/);
    source.end("-rest");
    await done;
    expect(await readdir(dir)).toEqual(["f.bin"]);
    expect(await readFile(join(dir, "f.bin"), "utf8")).toBe("half-rest");
  });

  it("when the source fails midway, then the error comes through and neither file remains", async () => {
    const source = new PassThrough();
    const done = writeFileAtomically(join(dir, "f.bin"), source);
    source.write("half");
    setTimeout(() => source.destroy(new Error("connection reset")), 20);
    await expect(done).rejects.toThrow("connection reset");
    expect(await readdir(dir)).toEqual([]);
  });

  it("when the source fails before the temp file is open, then it rejects instead of crashing the process", async () => {
    const source = new PassThrough();
    const done = writeFileAtomically(join(dir, "deep", "er", "f.bin"), source);
    source.destroy(new Error("early"));
    await expect(done).rejects.toThrow("early");
    expect(await readdir(dir)).toEqual(["deep"]);
    expect(await readdir(join(dir, "deep", "er"))).toEqual([]);
  });

  it("when the final name exists, then it is replaced whole", async () => {
    await writeFileAtomically(join(dir, "f"), Readable.from(["old, longer content"]));
    await writeFileAtomically(join(dir, "f"), Readable.from(["new"]));
    expect(await readFile(join(dir, "f"), "utf8")).toBe("new");
  });
});

describe("copyFileAtomically", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "embedops-atomic-copy-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("when a file is copied, then it appears whole under its name with the copy's digest and nothing else is left", async () => {
    const data = randomBytes(9 * 1024 * 1024);
    await writeFile(join(dir, "src.bin"), data);
    const d = await copyFileAtomically(join(dir, "src.bin"), join(dir, "a", "f.bin"));
    expect(d).toEqual({ bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    expect((await readFile(join(dir, "a", "f.bin"))).equals(data)).toBe(true);
    expect(await readdir(join(dir, "a"))).toEqual(["f.bin"]);
  });

  it("when the final name exists, then it is replaced whole", async () => {
    await mkdir(join(dir, "a"));
    await writeFile(join(dir, "a", "f.bin"), "old contents");
    await writeFile(join(dir, "src.bin"), "new");
    await copyFileAtomically(join(dir, "src.bin"), join(dir, "a", "f.bin"));
    expect(await readFile(join(dir, "a", "f.bin"), "utf8")).toBe("new");
    expect(await readdir(join(dir, "a"))).toEqual(["f.bin"]);
  });

  it("when the source is missing, then it rejects and leaves no file, partial or final", async () => {
    await expect(copyFileAtomically(join(dir, "none"), join(dir, "a", "f.bin"))).rejects.toMatchObject({
      code: "ENOENT",
    });
    expect(await readdir(join(dir, "a"))).toEqual([]);
  });
});
