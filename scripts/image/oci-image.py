#!/usr/bin/env python3
"""Write an OCI image-layout tarball from rootfs directories, one layer per directory.

usage: oci-image.py --name REF --out OUT.tar [--config JSON|@FILE] [--entrypoint JSON] [--gzip]
                    [--arch ARCH] DIR...

The result is what `ctr -n k8s.io images import OUT.tar` loads without a registry or Docker: an
`oci-layout` file, an `index.json` whose one manifest descriptor carries the image name, and
`blobs/sha256/*` (layers, image config, manifest). --config is the image config's "config" object
(Entrypoint, Cmd, User, Env, WorkingDir, ExposedPorts, ...); --entrypoint '["/bin/x"]' sets just
its Entrypoint, for images that need nothing else.

Prints one JSON line on stdout: {"out", "name", "manifest", "layers": [{"dir", "digest", "diffId",
"size"}]}; everything else goes to stderr.

Why it looks like this:
- Deterministic: the same trees give byte-identical blobs, so the same digests. Entries are sorted
  by name; mtime 0; uid/gid 0 with no user/group names (nothing in the image needs to be owned by
  the uid the pods run as: they write only to their volumes and an emptyDir on /tmp).
- Permissions: modes are kept (exec bits, the sticky bit of /tmp) but every file and directory is
  made readable (and directories searchable) by all, because the pods run as uid 1000 while every
  entry is owned by root: a 0600 file copied from a build tree would be unreadable in the pod.
- Symlinks are stored as symlinks. Hard links are stored as separate regular files, so the layer
  does not depend on how the build tree happened to be copied. Sockets, FIFOs and devices are
  refused: they have no place in an image built from copied files.
- Memory stays bounded: each layer streams into a temporary file next to OUT while its sha256 is
  computed, and is then copied into the output tarball in chunks.
- Layers are uncompressed (application/vnd.oci.image.layer.v1.tar) by default: containerd accepts
  them, the tarball only travels to a local `ctr images import`, and gzip of a few hundred MB in
  Python costs far more time than it saves. --gzip writes tar+gzip layers for other uses.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import stat
import sys
import tarfile
import tempfile
from typing import BinaryIO

CHUNK = 1 << 20
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


class Fail(Exception):
    """An error the user can act on; printed without a traceback."""


class HashingWriter(io.RawIOBase):
    """Passes writes through to `sink`, counting bytes and hashing them on the way."""

    def __init__(self, sink: BinaryIO) -> None:
        super().__init__()
        self.sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.sha.update(data)
        self.size += len(data)
        self.sink.write(data)
        return len(data)

    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def tar_entries(root: str):
    """(archive name, path) for every entry under root, depth-first in sorted name order."""
    stack = [""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            names = sorted(e.name for e in it)
        children = []
        for name in names:
            arc = f"{rel}/{name}" if rel else name
            path = os.path.join(root, arc)
            yield arc, path
            if stat.S_ISDIR(os.lstat(path).st_mode):
                children.append(arc)
        # Reversed onto the stack so the first child directory is walked first.
        stack.extend(reversed(children))


def tarinfo_for(arc: str, path: str) -> tarfile.TarInfo:
    st = os.lstat(path)
    ti = tarfile.TarInfo(arc)
    ti.mtime = 0
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        ti.type = tarfile.SYMTYPE
        ti.linkname = os.readlink(path)
        ti.mode = 0o777
    elif stat.S_ISDIR(st.st_mode):
        ti.type = tarfile.DIRTYPE
        ti.mode = mode | 0o555
    elif stat.S_ISREG(st.st_mode):
        ti.type = tarfile.REGTYPE
        ti.mode = mode | 0o444
        ti.size = st.st_size
    else:
        raise Fail(
            f"{path}: not a regular file, directory or symlink (mode {oct(st.st_mode)}); "
            "remove it from the rootfs directory, an image layer should hold copied files only"
        )
    return ti


def write_layer(root: str, sink: BinaryIO, compress: bool) -> tuple[str, str, int]:
    """Stream the layer for `root` into sink; returns (blob digest, diff id, blob size)."""
    blob = HashingWriter(sink)
    gz = gzip.GzipFile(filename="", mode="wb", fileobj=blob, mtime=0) if compress else None
    diff = HashingWriter(gz) if gz else blob
    # "w|" is tarfile's stream mode: it never seeks or reads back, it only writes forward.
    with tarfile.open(fileobj=diff, mode="w|", format=tarfile.PAX_FORMAT, bufsize=CHUNK) as tar:
        tar.copybufsize = CHUNK
        for arc, path in tar_entries(root):
            ti = tarinfo_for(arc, path)
            if ti.isreg():
                with open(path, "rb") as f:
                    tar.addfile(ti, f)
            else:
                tar.addfile(ti)
    if gz:
        gz.close()
    return blob.digest(), diff.digest(), blob.size


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", required=True, help="image reference, e.g. localhost/embedops:dev")
    p.add_argument("--out", required=True, help="the OCI image-layout tarball to write")
    p.add_argument("--config", default="{}", help='the image config\'s "config" object: JSON or @FILE')
    p.add_argument("--entrypoint", default=None, help='the Entrypoint as a JSON list (overrides --config\'s)')
    p.add_argument("--gzip", action="store_true", help="tar+gzip layers instead of plain tar")
    p.add_argument("--arch", default=None, help="GOARCH of the image (default: this machine's)")
    p.add_argument("dirs", nargs="+", metavar="DIR", help="one rootfs directory per layer, bottom first")
    return p.parse_args(argv)


def host_arch() -> str:
    machine = platform.machine()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if not arch:
        raise Fail(f"unknown machine {machine!r}; pass --arch with its GOARCH name (amd64, arm64, ...)")
    return arch


def load_config(text: str) -> dict:
    source = "--config"
    if text.startswith("@"):
        source = text[1:]
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise Fail(f"--config {source}: {e.strerror}") from e
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise Fail(f"{source} is not JSON ({e}); pass the image config's \"config\" object") from e
    if not isinstance(config, dict):
        raise Fail(f"{source} must be a JSON object like {{\"Entrypoint\": [...]}}, not {type(config).__name__}")
    return config


def load_entrypoint(text: str) -> list[str]:
    try:
        entrypoint = json.loads(text)
    except json.JSONDecodeError as e:
        raise Fail(f"--entrypoint is not JSON ({e}); pass a list like '[\"/bin/sh\", \"-c\", \"...\"]'") from e
    if not isinstance(entrypoint, list) or not entrypoint or not all(isinstance(a, str) for a in entrypoint):
        raise Fail(f"--entrypoint must be a non-empty JSON list of strings, not {text!r}")
    return entrypoint


def split_ref(name: str) -> str:
    """The tag of NAME; a reference without one would import under a name nobody asked for."""
    last = name.rsplit("/", 1)[-1]
    if ":" not in last or "@" in name:
        raise Fail(f"--name {name!r} needs an explicit tag, e.g. {name.split('@')[0]}:dev")
    return last.rsplit(":", 1)[1]


def build(args: argparse.Namespace) -> dict:
    tag = split_ref(args.name)
    config_obj = load_config(args.config)
    if args.entrypoint is not None:
        config_obj["Entrypoint"] = load_entrypoint(args.entrypoint)
    arch = args.arch or host_arch()
    for d in args.dirs:
        if not os.path.isdir(d):
            raise Fail(f"layer directory {d} does not exist (or is not a directory)")
    out = os.path.abspath(args.out)
    out_dir = os.path.dirname(out)
    os.makedirs(out_dir, exist_ok=True)
    media_layer = MEDIA_LAYER_GZIP if args.gzip else MEDIA_LAYER

    # Layers go to temporary files beside OUT (same filesystem, no RAM); removed on every exit path.
    work = tempfile.mkdtemp(prefix=".oci-image-", dir=out_dir)
    try:
        layers = []
        for i, d in enumerate(args.dirs):
            tmp = os.path.join(work, f"layer{i}")
            with open(tmp, "wb") as f:
                digest, diff_id, size = write_layer(d, f, args.gzip)
            layers.append({"dir": d, "file": tmp, "digest": digest, "diffId": diff_id, "size": size})
            print(f"oci-image: layer {i} {d}: {size} bytes {digest}", file=sys.stderr)

        image_config = canonical(
            {
                "architecture": arch,
                "os": "linux",
                "config": config_obj,
                "rootfs": {"type": "layers", "diff_ids": [layer["diffId"] for layer in layers]},
                "history": [
                    {"created_by": f"oci-image.py {os.path.basename(os.path.normpath(layer['dir']))}"}
                    for layer in layers
                ],
            }
        )
        manifest = canonical(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": {"mediaType": MEDIA_CONFIG, "digest": sha(image_config), "size": len(image_config)},
                "layers": [
                    {"mediaType": media_layer, "digest": layer["digest"], "size": layer["size"]}
                    for layer in layers
                ],
            }
        )
        # ctr reads the image name from the index's manifest descriptor: io.containerd.image.name is
        # the full reference; org.opencontainers.image.ref.name is the tag, as the OCI spec defines it.
        index = canonical(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {
                        "mediaType": MEDIA_MANIFEST,
                        "digest": sha(manifest),
                        "size": len(manifest),
                        "platform": {"architecture": arch, "os": "linux"},
                        "annotations": {
                            "io.containerd.image.name": args.name,
                            "org.opencontainers.image.ref.name": tag,
                        },
                    }
                ],
            }
        )

        partial = os.path.join(work, "image.tar")
        with tarfile.open(partial, mode="w", format=tarfile.PAX_FORMAT) as tar:

            def add_bytes(arc: str, data: bytes) -> None:
                ti = tarfile.TarInfo(arc)
                ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
                tar.addfile(ti, io.BytesIO(data))

            def add_dir(arc: str) -> None:
                ti = tarfile.TarInfo(arc)
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
                tar.addfile(ti)

            tar.copybufsize = CHUNK
            add_bytes("oci-layout", canonical({"imageLayoutVersion": "1.0.0"}))
            add_bytes("index.json", index)
            add_dir("blobs")
            add_dir("blobs/sha256")
            written = set()
            for layer in layers:
                if layer["digest"] in written:
                    continue  # two identical layers share one blob
                written.add(layer["digest"])
                ti = tarfile.TarInfo("blobs/sha256/" + layer["digest"].split(":", 1)[1])
                ti.size, ti.mode, ti.mtime = layer["size"], 0o644, 0
                with open(layer["file"], "rb") as f:
                    tar.addfile(ti, f)
                os.unlink(layer["file"])
            for data in (image_config, manifest):
                add_bytes("blobs/sha256/" + sha(data).split(":", 1)[1], data)
        os.replace(partial, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    return {
        "out": out,
        "name": args.name,
        "manifest": sha(manifest),
        "layers": [
            {"dir": layer["dir"], "digest": layer["digest"], "diffId": layer["diffId"], "size": layer["size"]}
            for layer in layers
        ],
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        result = build(args)
    except Fail as e:
        print(f"oci-image: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
