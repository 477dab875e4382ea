#!/usr/bin/env bash
# Builds the embedops container image on this machine, without Docker and without a registry, as
# an OCI image-layout tarball that `ctr -n k8s.io images import FILE.tar` loads. (The Dockerfile is
# the build for machines with a registry; this is for the local one-node cluster and the e2e.)
#
# Usage: bash scripts/image/build-image.sh [--load]        (or: npm run image:build)
#   --load  also import it into the running one-node cluster (scripts/cluster/load-image.sh), so
#           its pods can use it; done on warm runs too, since the cluster may be new.
# Output contract: stdout gets exactly two lines, nothing else (logs go to stderr):
#   1. the tarball's absolute path: ${EMBEDOPS_CACHE:-$HOME/.cache/embedops}/image/embedops-<tag>.tar
#   2. the image name it imports as: localhost/embedops:<tag>
# <tag> is 12 hex digits of a sha256 over every input (sources, lockfiles, the model's lock entry,
# the host's node and shared libraries, these scripts), so the same inputs always give the same
# name, and a changed input gives a new name: with imagePullPolicy IfNotPresent a pod never runs a
# stale image that happens to share a tag. For helm: image.repository=${name%:*} image.tag=${name##*:}.
# A warm run with unchanged inputs builds nothing and prints the same two lines. Older tarballs in
# the cache are deleted once a new one is written.
#
# Needs: npm ci done (node_modules), bash scripts/setup-models.sh done (models/all-minilm-l6-v2),
# python3, ldd. Runs as any user; nothing here needs root.
#
# Why the image is laid out this way: no base image (node:20-slim, Debian) can be pulled here, so
# the rootfs is assembled from this host, which runs the same Node 20 on Debian 12:
#   base    /usr/bin/node plus its shared-library closure (ldd, with the dynamic loader), the closure
#           of the native addons the app loads (onnxruntime, hnswlib-node, better-sqlite3), tar and
#           gzip (`embedops fetch-model`, the http model source's init container, runs `tar -xzf`),
#           a minimal /etc (root and node uid/gid 1000: the pods run as runAsUser 1000 with
#           runAsNonRoot; nsswitch `hosts: files dns`), /tmp 1777, the merged-/usr links of Debian 12.
#           No shell and no package manager: nothing in the pods needs them.
#   models  /models/all-minilm-l6-v2 (for EmbeddingModels with source.path and the e2e).
#   deps    /app/node_modules, production dependencies only (a copy of node_modules pruned with
#           `npm prune --omit=dev`, so native addons are not rebuilt; onnxruntime binaries for other
#           platforms, node-gyp intermediates, type declarations and source maps dropped).
#   app     /app/dist (tsc -p tsconfig.build.json), /app/bin, /app/package.json; no src/ or test/,
#           so bin/embedops.mjs runs the compiled dist/.
# Layers are ordered by how often they change, rarest first: containerd keys each unpacked layer by
# the chain of layers below it, so a code change re-unpacks only the app layer, never the model or
# node_modules. Each layer's staging tree is cached under image/stage/ by the hash of its inputs.
set -euo pipefail

load=false
for arg in "$@"; do
  case "$arg" in
    --load) load=true ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
      exit 0
      ;;
    *)
      echo "build-image: unknown argument $arg; usage: build-image.sh [--load]" >&2
      exit 2
      ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CACHE="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
OUT="$CACHE/image"
STAGE="$OUT/stage"
MODEL=all-minilm-l6-v2
REPO=localhost/embedops
start=$(date +%s)

log() { echo "[build-image] $*" >&2; }
die() {
  echo "build-image: $*" >&2
  exit 1
}
sha_stdin() { sha256sum | cut -c1-64; }
# sha256 over the names and contents of files (names included, so a rename changes the hash).
sha_files() { sha256sum "$@" | sha_stdin; }
# Prints the contract's two lines, after importing into the cluster when --load asks for it.
finish() {
  if $load; then
    bash "$ROOT/scripts/cluster/load-image.sh" "$tarball" >&2 ||
      die "loading $tarball into the cluster failed (above); is it up? (npm run cluster:up)"
    log "loaded $name into the cluster's containerd"
  fi
  echo "$tarball"
  echo "$name"
}
sha_tree() { find "$@" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha_stdin; }

[[ -f node_modules/.package-lock.json ]] || die "node_modules is missing or incomplete; run: npm ci"
[[ -f "models/$MODEL/model.onnx" ]] || die "models/$MODEL is missing; run: bash scripts/setup-models.sh"
command -v python3 >/dev/null || die "python3 is needed for scripts/image/oci-image.py"
node_bin=$(command -v node) || die "node is not on PATH; the image ships this host's node binary"
node_bin=$(readlink -f "$node_bin")
arch=$(node -p 'process.platform + "-" + process.arch')
[[ "$arch" == linux-x64 ]] || die "only linux-x64 is wired up (this host is $arch): onnxruntime's platform dir and ld.so's path are x64's"

mkdir -p "$OUT"
# One build at a time: the cluster scripts and the e2e may both ask for the image.
exec 9>"$OUT/.lock"
flock 9

# --- inputs ----------------------------------------------------------------------------------
# The native code the app loads, found in the repo's node_modules (the staged copy holds the same
# files); test_extension.node is better-sqlite3's test fixture, never loaded.
mapfile -t addons < <(
  find node_modules/onnxruntime-node/bin/napi-v6/linux/x64 node_modules/hnswlib-node/build/Release \
    node_modules/better-sqlite3/build/Release -maxdepth 1 \( -name '*.node' -o -name '*.so*' \) \
    ! -name test_extension.node | LC_ALL=C sort
)
((${#addons[@]} >= 4)) || die "native addons not found under node_modules (found: ${addons[*]:-none}); run: npm ci"
host_bins=("$node_bin" /usr/bin/tar /usr/bin/gzip)
# Every shared library outside node_modules that these load, recursively (ldd resolves the whole
# tree), including the dynamic loader itself. node_modules' own libraries ship in the deps layer.
closure() {
  local f line
  for f in "$@"; do
    ldd "$f" 2>/dev/null || die "ldd $f failed; is it an ELF file for this machine?"
  done | while read -r line; do
    case "$line" in
      *"not found"*) die "a library is missing on this host ($line); install it with apt-get" ;;
      *"=> /"*) line=${line#*=> } && echo "${line%% (*}" ;;
      /*) echo "${line%% (*}" ;;
    esac
  done | grep -v "^$ROOT/node_modules/" | LC_ALL=C sort -u
}
# Through a file, not <(...): a failure inside a process substitution would go unnoticed.
closure "${host_bins[@]}" "${addons[@]}" >"$OUT/.libs"
mapfile -t libs <"$OUT/.libs"
((${#libs[@]} > 0)) || die "ldd found no libraries for $node_bin; is ldd (libc-bin) installed?"

# Relative paths: the tag must not depend on where the checkout lives.
self_sha=$(sha_files scripts/image/build-image.sh scripts/image/oci-image.py)
base_key=$( (echo "$self_sha" && sha_files "${host_bins[@]}" "${libs[@]}") | sha_stdin)
models_key=$( (echo "$self_sha $MODEL" &&
  python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["models"][sys.argv[2]], sort_keys=True))' \
    scripts/models.lock.json "$MODEL") | sha_stdin) ||
  die "scripts/models.lock.json has no entry for $MODEL"
deps_key=$( (echo "$self_sha" && sha_files "$node_bin" package.json package-lock.json node_modules/.package-lock.json) | sha_stdin)
# The app layer's inputs are the ones edited while a build runs; they are hashed again after tsc.
app_inputs_key() {
  (echo "$self_sha" && sha_files tsconfig.json tsconfig.build.json package.json && sha_tree src controllers bin) |
    sha_stdin
}
# Sets tag, name and tarball from the layer keys; prints the result and exits if it is built already.
name_image() {
  local image_key
  image_key=$(echo "$base_key $models_key $deps_key $app_key" | sha_stdin)
  tag=${image_key:0:12}
  name="$REPO:$tag"
  tarball="$OUT/embedops-$tag.tar"
  if [[ -f "$tarball" ]]; then
    log "up to date: $name ($(du -h "$tarball" | cut -f1)), nothing to build"
    finish
    exit 0
  fi
}
app_key=$(app_inputs_key)
name_image

# --- staging trees, one per layer, each reused while its key holds -----------------------------
mkdir -p "$STAGE"
# stage LAYER KEY FUNCTION: runs FUNCTION DIR into a fresh DIR unless $STAGE/LAYER-KEY exists.
stage() {
  local dir="$STAGE/$1-${2:0:16}"
  if [[ -d "$dir" ]]; then
    log "$1: cached ($dir)"
  else
    local t=$(date +%s)
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    "$3" "$dir.partial"
    mv "$dir.partial" "$dir"
    log "$1: staged in $(($(date +%s) - t))s ($(du -sh "$dir" | cut -f1))"
  fi
  # Other keys of this layer are stale builds; keep only the current one.
  find "$STAGE" -mindepth 1 -maxdepth 1 -name "$1-*" ! -name "$(basename "$dir")" -exec rm -rf {} +
  eval "dir_$1=\$dir"
}

stage_base() {
  local r=$1 f
  # Debian 12 is merged-/usr: /bin, /lib, /lib64 are links into /usr, and the ELF interpreter
  # path /lib64/ld-linux-x86-64.so.2 resolves through them.
  mkdir -p "$r/usr/bin" "$r/usr/lib" "$r/usr/lib64" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev"
  ln -s usr/bin "$r/bin"
  ln -s usr/lib "$r/lib"
  ln -s usr/lib64 "$r/lib64"
  for f in "${host_bins[@]}"; do cp -L "$f" "$r/usr/bin/"; done
  # Each library goes where the loader looks for it: its directory with links resolved (so
  # /lib/x86_64-linux-gnu/x lands in usr/lib/x86_64-linux-gnu/x), under the name ldd reported
  # (the soname), with the link target's contents.
  for f in "${libs[@]}"; do
    local d
    d=$(readlink -f "$(dirname "$f")")
    mkdir -p "$r$d"
    cp -L "$f" "$r$d/$(basename "$f")"
  done
  chmod 1777 "$r/tmp"
  chmod 0555 "$r/proc" "$r/sys"
  # HOME of the node user is /tmp: with readOnlyRootFilesystem it is the one writable place in
  # the pods (an emptyDir), and runc sets HOME from this file.
  printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' 'node:x:1000:1000:node:/tmp:/usr/sbin/nologin' \
    >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'node:x:1000:' >"$r/etc/group"
  # glibc resolves names through NSS; files and dns are built into libc since 2.34.
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$r/etc/nsswitch.conf"
  # The kubelet mounts its own /etc/hosts and /etc/resolv.conf over these; they serve chroot runs.
  printf '%s\n' '127.0.0.1 localhost' '::1 localhost ip6-localhost ip6-loopback' >"$r/etc/hosts"
  : >"$r/etc/resolv.conf"
  chmod 0644 "$r"/etc/*
}

stage_models() {
  local r=$1
  mkdir -p "$r/models"
  # A real copy, not hard links: setup-models.sh may rewrite these files in place.
  cp -r "models/$MODEL" "$r/models/$MODEL"
  # The staged files must be the locked ones, or the key above would name other bytes.
  python3 - "$r/models/$MODEL" scripts/models.lock.json "$MODEL" <<'EOF' || die "models/$MODEL does not match scripts/models.lock.json; rerun: bash scripts/setup-models.sh"
import hashlib, json, os, sys
d, lock, model = sys.argv[1:]
want = json.load(open(lock))["models"][model]["files"]
bad = []
for name, digest in sorted(want.items()):
    h = hashlib.sha256()
    with open(os.path.join(d, name), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != digest:
        bad.append(name)
extra = sorted(set(os.listdir(d)) - set(want))
if bad or extra:
    print(f"build-image: {model}: mismatched {bad}, not in the lock {extra}", file=sys.stderr)
    sys.exit(1)
EOF
}

stage_deps() {
  local r=$1 prune=$1/prune
  mkdir -p "$prune"
  cp package.json package-lock.json .npmrc "$prune/"
  # Hard links make the 1 GB copy instant, and pruning only unlinks. The one file npm rewrites in
  # place is node_modules/.package-lock.json, so that one is a real copy: the repo's stays intact.
  cp -al node_modules "$prune/node_modules"
  rm "$prune/node_modules/.package-lock.json"
  cp node_modules/.package-lock.json "$prune/node_modules/.package-lock.json"
  (cd "$prune" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund --loglevel=error >&2) ||
    die "npm prune --omit=dev failed in $prune; does node_modules match package-lock.json? (npm ci)"
  local m=$prune/node_modules
  # Only linux-x64 runs here; the other platforms' onnxruntime binaries are most of its size.
  find "$m/onnxruntime-node/bin/napi-v6" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +
  find "$m/onnxruntime-node/bin/napi-v6/linux" -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
  # node-gyp's object files, dependency files and sources are build leftovers; `bindings` loads
  # build/Release/*.node only.
  local pkg
  for pkg in hnswlib-node better-sqlite3; do
    rm -rf "$m/$pkg/build/Release/obj.target" "$m/$pkg/build/Release/.deps" "$m/$pkg/build/Release/obj" \
      "$m/$pkg/build/Release/test_extension.node" "$m/$pkg/build/"*.mk "$m/$pkg/build/Makefile" \
      "$m/$pkg/build/config.gypi" "$m/$pkg/build/"*.Makefile "$m/$pkg/deps" "$m/$pkg/src"
  done
  # Type declarations and source maps are never loaded at run time (nothing enables
  # --enable-source-maps): about a quarter of the pruned tree.
  find "$m" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.js.map' \
    -o -name '*.mjs.map' -o -name '*.cjs.map' -o -name '*.d.ts.map' \) -delete
  mkdir -p "$r/app"
  mv "$m" "$r/app/node_modules"
  rm -rf "$prune" "$r/app/node_modules/.package-lock.json" "$r/app/node_modules/.bin"
}

stage_app() {
  local r=$1
  mkdir -p "$r/app"
  # tsconfig.build.json compiles src/ and controllers/ with rootDir ".", so dist/src/cli/main.js is
  # where bin/embedops.mjs looks when src/ is absent. No source maps: nothing enables them at run time.
  node_modules/.bin/tsc -p tsconfig.build.json --outDir "$r/app/dist" --sourceMap false >&2 ||
    die "tsc -p tsconfig.build.json failed (errors above); fix them (npm run typecheck) and rerun"
  cp -r bin "$r/app/bin"
  cp package.json "$r/app/package.json"
  [[ -f "$r/app/dist/src/cli/main.js" ]] || die "tsc wrote no dist/src/cli/main.js; has tsconfig.build.json's outDir/rootDir changed?"
}

stage base "$base_key" stage_base
stage models "$models_key" stage_models
stage deps "$deps_key" stage_deps
# Sources edited while tsc ran would leave a tag naming other code than the image holds: stage the
# app again under the new key (another engineer's editor may be saving as we build).
for attempt in 1 2 3; do
  stage app "$app_key" stage_app
  now=$(app_inputs_key)
  [[ "$now" == "$app_key" ]] && break
  ((attempt < 3)) || die "src/, controllers/ or bin/ kept changing during the build; rerun when they are quiet"
  log "src/, controllers/ or bin/ changed while tsc ran; staging the app again"
  app_key=$now
  name_image
done

# --- the image ---------------------------------------------------------------------------------
config=$(
  cat <<'EOF'
{
  "Entrypoint": ["/usr/bin/node", "/app/bin/embedops.mjs"],
  "Cmd": ["--help"],
  "User": "1000:1000",
  "WorkingDir": "/app",
  "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
  "ExposedPorts": {"8080/tcp": {}, "8081/tcp": {}}
}
EOF
)
t=$(date +%s)
python3 "$ROOT/scripts/image/oci-image.py" --name "$name" --out "$tarball" --config "$config" \
  "$dir_base" "$dir_models" "$dir_deps" "$dir_app" >"$OUT/embedops-$tag.json"
log "packed $name in $(($(date +%s) - t))s: $(du -h "$tarball" | cut -f1)"
find "$OUT" -maxdepth 1 -name 'embedops-*' ! -name "embedops-$tag.*" -delete
log "built in $(($(date +%s) - start))s"
finish
