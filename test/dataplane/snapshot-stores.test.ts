// One contract, two stores: the same tests run against the path store on a temp directory and the
// S3 store against a real versitygw. 12 MiB files with 5 MiB parts, so the S3 store really uploads
// in 3 parts; every file comes back checked by sha256.
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildShardManifest, parseManifest, ShardManifest } from "../../src/snapshot/manifest.js";
import { PathStore } from "../../src/snapshot/path-store.js";
import { S3Store } from "../../src/snapshot/s3-store.js";
import { type PutProgress, type SnapshotStore, SnapshotStoreError } from "../../src/snapshot/store.js";
import { startVersitygw, type Versitygw } from "./versitygw.js";

/** The reference digest, taken apart from the stores' own hashing (src/util/hash-file.ts). */
async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const data = await readFile(path);
  return { bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

const MiB = 1024 * 1024;
const BIG = 12 * MiB;
const PART = 5 * MiB;

interface Kind {
  name: string;
  /** Parts a BIG file goes up in. */
  bigParts: number;
  make(): Promise<{ store: SnapshotStore; missing: SnapshotStore; missingMessage: RegExp }>;
}

let work: string;
let bigFile: string;
let gw: Versitygw;
const stores: { destroy(): void }[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "embedops-snapshot-stores-"));
  bigFile = join(work, "big.bin");
  // Random bytes in 1 MiB pieces: incompressible, and never 12 MiB in memory at once.
  const out = createWriteStream(bigFile);
  for (let i = 0; i < BIG / MiB; i++) {
    if (!out.write(randomBytes(MiB))) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  gw = await startVersitygw();
});

afterAll(async () => {
  for (const s of stores) s.destroy();
  await gw?.stop();
  await rm(work, { recursive: true, force: true });
});

const s3 = (bucket: string, secretAccessKey = gw.credentials.secretAccessKey, endpoint = gw.endpoint) => {
  const store = new S3Store({
    endpoint,
    bucket,
    credentials: { accessKeyId: gw.credentials.accessKeyId, secretAccessKey },
    partSize: PART,
    maxAttempts: 1,
  });
  stores.push(store);
  return store;
};

const kinds: Kind[] = [
  {
    name: "path store",
    bigParts: 1,
    async make() {
      const root = await mkdtemp(join(work, "pvc-"));
      return {
        store: new PathStore(root),
        missing: new PathStore(join(work, "not-mounted")),
        missingMessage:
          /snapshot directory .*not-mounted does not exist; mount the snapshot PVC there or fix spec\.snapshot\.store\.pvc/,
      };
    },
  },
  {
    name: "S3 store (versitygw)",
    bigParts: 3,
    async make() {
      return {
        store: s3(gw.bucket),
        missing: s3("no-such-bucket"),
        missingMessage: new RegExp(
          `bucket no-such-bucket does not exist at endpoint ${gw.endpoint.replace(/\./g, "\\.")}; ` +
            `create it or fix spec\\.snapshot\\.store\\.s3\\.bucket`,
        ),
      };
    },
  },
];

const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(1)} MiB/s`;

async function rejection(p: Promise<unknown>): Promise<SnapshotStoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SnapshotStoreError);
  return err as SnapshotStoreError;
}

for (const kind of kinds) {
  describe(kind.name, () => {
    let store: SnapshotStore;
    let missing: SnapshotStore;
    let missingMessage: RegExp;
    beforeAll(async () => {
      ({ store, missing, missingMessage } = await kind.make());
    });

    it(`when a 12 MiB file is put and got back, then it is byte-identical and went up in ${kind.bigParts} part(s)`, async () => {
      const progress: PutProgress[] = [];
      let t = performance.now();
      const put = await store.putFile("idx/snap-1/shard-0/vectors.bin", bigFile, (p) => progress.push(p));
      const putMs = performance.now() - t;
      expect(put).toEqual({ bytes: BIG, parts: kind.bigParts });
      expect(new Set(progress.map((p) => p.part)).size).toBe(kind.bigParts);
      expect(progress.at(-1)?.loaded).toBe(BIG);

      expect(await store.head("idx/snap-1/shard-0/vectors.bin")).toEqual({ exists: true, bytes: BIG });

      const back = join(work, `back-${kind.bigParts}.bin`);
      t = performance.now();
      expect(await store.getFile("idx/snap-1/shard-0/vectors.bin", back)).toEqual(await fileDigest(bigFile));
      const getMs = performance.now() - t;
      expect(await fileDigest(back)).toEqual(await fileDigest(bigFile));
      console.info(`${kind.name}: 12 MiB put ${rate(BIG, putMs)}, get ${rate(BIG, getMs)}`);
    });

    it("when objects sit under several prefixes, then list returns those under the prefix, sorted, with sizes", async () => {
      const small = join(work, "small.txt");
      await writeFile(small, "0123456789");
      for (const key of ["ls/b/2.txt", "ls/a/1.txt", "ls/b/10.txt", "ls/bb/x.txt", "other/y.txt"])
        await store.putFile(key, small);
      expect(await store.list("ls/b/")).toEqual([
        { key: "ls/b/10.txt", bytes: 10 },
        { key: "ls/b/2.txt", bytes: 10 },
      ]);
      // A prefix is a string prefix of keys, as in S3, not a folder.
      expect((await store.list("ls/b")).map((o) => o.key)).toEqual([
        "ls/b/10.txt",
        "ls/b/2.txt",
        "ls/bb/x.txt",
      ]);
      expect((await store.list("ls/")).map((o) => o.key)).toEqual([
        "ls/a/1.txt",
        "ls/b/10.txt",
        "ls/b/2.txt",
        "ls/bb/x.txt",
      ]);
      expect(await store.list("nothing-here/")).toEqual([]);
    });

    it("when a prefix is deleted, then its objects are gone and the neighbours stay", async () => {
      const small = join(work, "small.txt");
      await writeFile(small, "abc");
      for (const key of ["del/s1/shard-0/a", "del/s1/shard-1/b", "del/s1/manifest.json", "del/s10/keep"])
        await store.putFile(key, small);
      expect(await store.deletePrefix("del/s1/")).toBe(3);
      expect(await store.list("del/")).toEqual([{ key: "del/s10/keep", bytes: 3 }]);
      expect(await store.head("del/s1/manifest.json")).toEqual({ exists: false });
      expect(await store.deletePrefix("del/s1/")).toBe(0);
    });

    it("when a manifest is written as JSON, then it reads back equal", async () => {
      const m = buildShardManifest({
        index: "idx",
        generation: "g1",
        shard: 0,
        fingerprint: "sha256:feed",
        metric: "cosine",
        dimension: 384,
        hnsw: { m: 16, efConstruction: 200 },
        vectorCount: 3,
        seq: 17,
        files: [{ name: "vectors.bin", bytes: BIG, sha256: (await fileDigest(bigFile)).sha256 }],
        createdAt: "2026-12-02T05:00:00Z",
      });
      await store.putJson("idx/snap-1/shard-0/manifest.json", m);
      const back = await store.getJson("idx/snap-1/shard-0/manifest.json");
      expect(parseManifest(ShardManifest, back, "test")).toEqual(m);
      // Written whole and replaced whole.
      await store.putJson("idx/snap-1/shard-0/manifest.json", { replaced: true });
      expect(await store.getJson("idx/snap-1/shard-0/manifest.json")).toEqual({ replaced: true });
    });

    it("when a key is missing, then get, getJson and head say so and no local file appears", async () => {
      const target = join(work, "never.bin");
      const err = await rejection(store.getFile("idx/snap-1/shard-9/vectors.bin", target));
      expect(err.code).toBe("NoSuchKey");
      expect(err.message).toMatch(/idx\/snap-1\/shard-9\/vectors\.bin does not exist/);
      expect(existsSync(target)).toBe(false);
      expect((await readdir(work)).filter((n) => n.startsWith(".partial-"))).toEqual([]);
      expect((await rejection(store.getJson("idx/none.json"))).code).toBe("NoSuchKey");
      // A "folder" (a prefix with objects under it) is not an object either.
      expect((await rejection(store.getFile("idx/snap-1", target))).code).toBe("NoSuchKey");
      expect(await store.head("idx/snap-1")).toEqual({ exists: false });
      expect(await store.head("idx/none.json")).toEqual({ exists: false });
    });

    it("when the bucket or directory is missing, then every call says which and how to fix it", async () => {
      const small = join(work, "small.txt");
      await writeFile(small, "x");
      for (const call of [
        () => missing.putFile("a/b", small),
        () => missing.getFile("a/b", join(work, "never-2")),
        () => missing.head("a/b"),
        () => missing.list("a/"),
        () => missing.getJson("a/b"),
        () => missing.putJson("a/b", {}),
      ]) {
        const err = await rejection(call());
        expect(err.code).toBe("StoreMissing");
        expect(err.message).toMatch(missingMessage);
      }
    });

    it("when a key would leave the store or is malformed, then it is refused before any I/O", async () => {
      for (const key of ["../etc/passwd", "/abs", "a//b", "a/./b", "a/", "", ".partial-x"]) {
        const err = await rejection(store.head(key));
        expect(err.code).toBe("InvalidKey");
        expect(err.message).toContain(JSON.stringify(key));
      }
    });

    it("when the local file to put does not exist, then the error names it", async () => {
      const err = await rejection(store.putFile("idx/x", join(work, "absent.bin")));
      expect(err.message).toMatch(/local file .*absent\.bin does not exist/);
    });
  });
}

describe("path store only", () => {
  it("when a temporary .partial- file sits in the directory, then it is not listed", async () => {
    const root = await mkdtemp(join(work, "pvc-partial-"));
    await mkdir(join(root, "s"));
    await writeFile(join(root, "s", ".partial-vectors.bin-1a2b3c4d"), "half");
    await writeFile(join(root, "s", "vectors.bin"), "whole");
    expect(await new PathStore(root).list("")).toEqual([{ key: "s/vectors.bin", bytes: 5 }]);
  });

  it("when a prefix is deleted, then its emptied folders go too", async () => {
    const root = await mkdtemp(join(work, "pvc-rmdir-"));
    const store = new PathStore(root);
    await store.putJson("idx/snap/shard-0/manifest.json", {});
    await store.putJson("idx/keep.json", {});
    await store.deletePrefix("idx/snap/");
    expect(await readdir(join(root, "idx"))).toEqual(["keep.json"]);
  });
});

describe("S3 store only", () => {
  it("when the secret is wrong, then access is denied naming the Secret, and the secret appears nowhere in the error", async () => {
    const wrong = `wrong-${randomBytes(8).toString("hex")}`;
    const store = s3(gw.bucket, wrong);
    for (const call of [() => store.head("a/b"), () => store.getFile("a/b", join(work, "n"))]) {
      const err = await rejection(call());
      expect(err.code).toBe("AccessDenied");
      expect(err.message).toMatch(
        /denied .*check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the Secret named by spec\.snapshot\.store\.s3\.secretRef/,
      );
      for (const secret of [wrong, gw.credentials.secretAccessKey]) {
        expect(err.message).not.toContain(secret);
        expect(inspect(err, { depth: 10 })).not.toContain(secret);
      }
    }
  });

  it("when nothing listens at the endpoint, then the error says the endpoint is unreachable", async () => {
    const { freePort } = await import("../integration/harness/processes.js");
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const err = await rejection(s3(gw.bucket, gw.credentials.secretAccessKey, endpoint).list(""));
    expect(err.code).toBe("Unreachable");
    expect(err.message).toContain(`cannot reach S3 endpoint ${endpoint} (ECONNREFUSED)`);
  });
});
