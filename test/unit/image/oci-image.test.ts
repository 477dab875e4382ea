// scripts/image/oci-image.py writes the image tarball the local cluster imports with `ctr images
// import`. These tests read its output with their own tar reader (not Python's), so a wrong digest,
// size, mode or link in the layout fails here rather than as an opaque import error in the cluster.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const script = join(import.meta.dirname, "..", "..", "..", "scripts", "image", "oci-image.py");

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  data: Buffer;
}

function octal(block: Buffer, start: number, length: number): number {
  const text = block
    .subarray(start, start + length)
    .toString("latin1")
    .replace(/\0.*$/s, "")
    .trim();
  return text === "" ? 0 : Number.parseInt(text, 8);
}

function cstring(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString("utf8");
}

/** A ustar/pax reader: enough for what oci-image.py writes (pax `path`/`linkpath` records). */
function readTar(buf: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pax: Record<string, string> = {};
  for (let off = 0; off + 512 <= buf.length; ) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 48);
    const data = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      pax = {};
      let rest = data.toString("utf8");
      while (rest.length > 0) {
        const space = rest.indexOf(" ");
        const len = Number(rest.slice(0, space));
        const record = rest.slice(space + 1, len - 1);
        const eq = record.indexOf("=");
        pax[record.slice(0, eq)] = record.slice(eq + 1);
        rest = rest.slice(len);
      }
      continue;
    }
    const prefix = cstring(header, 345, 155);
    const short = cstring(header, 0, 100);
    entries.push({
      name: pax["path"] ?? (prefix ? `${prefix}/${short}` : short),
      type,
      mode: octal(header, 100, 8),
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
      mtime: octal(header, 136, 12),
      linkname: pax["linkpath"] ?? cstring(header, 157, 100),
      data: Buffer.from(data),
    });
    pax = {};
  }
  return entries;
}

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

function run(args: string[]) {
  const r = spawnSync("python3", [script, ...args], { encoding: "utf8" });
  if (r.error) throw r.error;
  return r;
}

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "oci-image-test-"));
});
afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

const longDir = "node_modules/@scope/a-package-with-a-rather-long-name/lib/deeply/nested/directory/names";

/** A rootfs with a plain file, a private file, an executable, a symlink, and a path over 100 bytes. */
function makeRootfs(dir: string): void {
  mkdirSync(join(dir, "usr/bin"), { recursive: true });
  mkdirSync(join(dir, "etc"), { recursive: true });
  mkdirSync(join(dir, "tmp"), { recursive: true });
  chmodSync(join(dir, "tmp"), 0o1777);
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/usr/sbin/nologin\n");
  chmodSync(join(dir, "etc/passwd"), 0o644);
  writeFileSync(join(dir, "etc/secret"), "private\n");
  chmodSync(join(dir, "etc/secret"), 0o600);
  writeFileSync(join(dir, "usr/bin/tool"), "#!/bin/sh\necho hi\n");
  chmodSync(join(dir, "usr/bin/tool"), 0o755);
  symlinkSync("usr/bin", join(dir, "bin"));
  mkdirSync(join(dir, longDir), { recursive: true });
  writeFileSync(join(dir, longDir, "index.js"), "export {};\n");
}

function layout(tarball: string) {
  const files = new Map(readTar(readFileSync(tarball)).map((e) => [e.name, e]));
  const blob = (digest: string): Buffer => {
    const entry = files.get(`blobs/sha256/${digest.replace(/^sha256:/, "")}`);
    if (!entry) throw new Error(`blob ${digest} is not in ${tarball}`);
    return entry.data;
  };
  const index = JSON.parse(files.get("index.json")!.data.toString()) as { manifests: Descriptor[] };
  return { files, blob, index };
}

describe("oci-image.py", () => {
  it("when a rootfs is packed, then index, manifest and config name blobs whose digests and sizes match, and the layer holds every entry with its mode", () => {
    const rootfs = join(work, "base");
    makeRootfs(rootfs);
    const out = join(work, "out", "image.tar");
    const config = { Entrypoint: ["/usr/bin/tool"], User: "1000:1000", WorkingDir: "/app" };
    const r = run([
      ...["--name", "localhost/test:abc123", "--out", out, "--arch", "amd64"],
      ...["--config", JSON.stringify(config), rootfs],
    ]);
    expect(r.stderr).not.toMatch(/Traceback/);
    expect(r.status).toBe(0);

    const { files, blob, index } = layout(out);
    expect(JSON.parse(files.get("oci-layout")!.data.toString())).toEqual({ imageLayoutVersion: "1.0.0" });
    expect(index.manifests).toHaveLength(1);
    const desc = index.manifests[0]!;
    expect(desc.annotations).toEqual({
      "io.containerd.image.name": "localhost/test:abc123",
      "org.opencontainers.image.ref.name": "abc123",
    });
    expect(desc.platform).toEqual({ architecture: "amd64", os: "linux" });

    const manifestBytes = blob(desc.digest);
    expect(sha256(manifestBytes)).toBe(desc.digest);
    expect(manifestBytes.length).toBe(desc.size);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    const configBytes = blob(manifest.config.digest);
    expect(sha256(configBytes)).toBe(manifest.config.digest);
    expect(configBytes.length).toBe(manifest.config.size);
    expect(manifest.layers).toHaveLength(1);
    const layerDesc = manifest.layers[0]!;
    expect(layerDesc.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    const layer = blob(layerDesc.digest);
    expect(sha256(layer)).toBe(layerDesc.digest);
    expect(layer.length).toBe(layerDesc.size);

    const image = JSON.parse(configBytes.toString()) as {
      architecture: string;
      os: string;
      config: unknown;
      rootfs: { type: string; diff_ids: string[] };
    };
    expect(image.config).toEqual(config);
    expect(image.os).toBe("linux");
    // Uncompressed: the diff id (digest of the tar) is the blob's digest.
    expect(image.rootfs).toEqual({ type: "layers", diff_ids: [layerDesc.digest] });

    const entries = readTar(layer);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const summary = (name: string) => {
      const e = byName.get(name);
      return e && { type: e.type, mode: e.mode.toString(8), linkname: e.linkname };
    };
    expect(summary("bin")).toEqual({ type: "2", mode: "777", linkname: "usr/bin" });
    expect(summary("usr/bin/tool")).toEqual({ type: "0", mode: "755", linkname: "" });
    expect(summary("etc/passwd")).toEqual({ type: "0", mode: "644", linkname: "" });
    // Owned by root in the image, yet the pods run as uid 1000: private files become readable.
    expect(summary("etc/secret")).toEqual({ type: "0", mode: "644", linkname: "" });
    expect(summary("tmp/")).toEqual({ type: "5", mode: "1777", linkname: "" });
    expect(summary(`${longDir}/index.js`)).toEqual({ type: "0", mode: "644", linkname: "" });
    expect(byName.get("usr/bin/tool")!.data.toString()).toBe("#!/bin/sh\necho hi\n");
    for (const e of entries) {
      expect({ name: e.name, uid: e.uid, gid: e.gid, mtime: e.mtime }).toEqual({
        name: e.name,
        uid: 0,
        gid: 0,
        mtime: 0,
      });
    }
    // Parents come before children and names are sorted, so the byte stream depends only on the tree.
    const names = entries.map((e) => e.name);
    for (const [i, name] of names.entries()) {
      const parent = name.replace(/\/?[^/]+\/?$/, "");
      if (parent) expect(names.indexOf(`${parent}/`)).toBeLessThan(i);
    }

    const printed = JSON.parse(r.stdout) as { manifest: string; layers: { digest: string; size: number }[] };
    expect(printed.manifest).toBe(desc.digest);
    expect(printed.layers).toEqual([
      expect.objectContaining({ digest: layerDesc.digest, size: layer.length }),
    ]);
  });

  it("when the same trees are packed twice with other mtimes, then the tarballs are byte-identical", () => {
    const a = join(work, "a");
    const b = join(work, "b");
    makeRootfs(a);
    makeRootfs(b);
    writeFileSync(join(b, "second-layer-file"), "x");
    utimesSync(join(a, "etc/passwd"), 1_000_000, 1_000_000);
    const first = run(["--name", "localhost/t:1", "--out", join(work, "1.tar"), a, b]);
    utimesSync(join(a, "etc/passwd"), 2_000_000, 2_000_000);
    const second = run(["--name", "localhost/t:1", "--out", join(work, "2.tar"), a, b]);
    expect([first.status, second.status]).toEqual([0, 0]);
    expect(readFileSync(join(work, "1.tar")).equals(readFileSync(join(work, "2.tar")))).toBe(true);
    const { index, blob } = layout(join(work, "1.tar"));
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { layers: Descriptor[] };
    expect(manifest.layers).toHaveLength(2);
  });

  it("when --gzip is given, then layers are tar+gzip and the diff id is the digest of the uncompressed tar", () => {
    const rootfs = join(work, "r");
    makeRootfs(rootfs);
    const out = join(work, "gz.tar");
    expect(run(["--gzip", "--name", "localhost/t:gz", "--out", out, rootfs]).status).toBe(0);
    const { index, blob } = layout(out);
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as {
      config: Descriptor;
      layers: Descriptor[];
    };
    const layerDesc = manifest.layers[0]!;
    expect(layerDesc.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    const compressed = blob(layerDesc.digest);
    expect(sha256(compressed)).toBe(layerDesc.digest);
    const tar = gunzipSync(compressed);
    const image = JSON.parse(blob(manifest.config.digest).toString()) as { rootfs: { diff_ids: string[] } };
    expect(image.rootfs.diff_ids).toEqual([sha256(tar)]);
    expect(readTar(tar).map((e) => e.name)).toContain("usr/bin/tool");
  });

  it("when --entrypoint is given, then it sets the config's Entrypoint over --config's and keeps the rest", () => {
    const rootfs = join(work, "r");
    makeRootfs(rootfs);
    const out = join(work, "ep.tar");
    const r = run([
      ...["--name", "localhost/pause:1", "--out", out],
      ...["--config", JSON.stringify({ Entrypoint: ["/old"], User: "0:0" })],
      ...["--entrypoint", JSON.stringify(["/bin/sh", "-c", "sleep 1"]), rootfs],
    ]);
    expect(r.status).toBe(0);
    const { index, blob } = layout(out);
    const manifest = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { config: Descriptor };
    const image = JSON.parse(blob(manifest.config.digest).toString()) as { config: unknown };
    expect(image.config).toEqual({ Entrypoint: ["/bin/sh", "-c", "sleep 1"], User: "0:0" });

    const bad = run(["--name", "localhost/pause:1", "--out", out, "--entrypoint", '"/bin/sh"', rootfs]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("--entrypoint must be a non-empty JSON list of strings");
  });

  it("when the name has no tag or the rootfs holds a FIFO, then it fails saying what to fix and writes nothing", () => {
    const rootfs = join(work, "r");
    makeRootfs(rootfs);
    const out = join(work, "x.tar");
    const untagged = run(["--name", "localhost/t", "--out", out, rootfs]);
    expect(untagged.status).toBe(1);
    expect(untagged.stderr).toContain("needs an explicit tag");

    expect(spawnSync("mkfifo", [join(rootfs, "etc/pipe")]).status).toBe(0);
    const fifo = run(["--name", "localhost/t:1", "--out", out, rootfs]);
    expect(fifo.status).toBe(1);
    expect(fifo.stderr).toContain("etc/pipe: not a regular file, directory or symlink");
    expect(fifo.stderr).not.toMatch(/Traceback/);
    expect(readdirSync(work).sort()).toEqual(["r"]);
  });
});
