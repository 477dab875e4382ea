#!/usr/bin/env bash
# Provides a real kube-apiserver (plus etcd and openssl) for test/integration.
#
# Order of preference for kube-apiserver:
#   1. $KUBEBUILDER_ASSETS/kube-apiserver (the envtest convention, e.g. from setup-envtest);
#   2. the cache ${EMBEDOPS_CACHE:-$HOME/.cache/embedops}/kube/<version>/kube-apiserver;
#   3. a build from source through the Go module proxy into that cache.
# Upstream release binaries live on dl.k8s.io, which CI machines here cannot reach; the Go module
# proxy can, and k8s.io/kubernetes is a Go module, so we build it: ~12 CPU-minutes (~6 min on 2 idle
# cores, measured 26 min on a shared 2-core box at load 15), peak RSS 1.8 GB, 101 MB binary.
# Debian 12's etcd 3.4.23 serves it fine.
#
# The path of kube-apiserver is the last line on stdout; everything else goes to stderr.
# Idempotent: a second run with a warm cache takes a few seconds.
set -euo pipefail

# v1.36.3 is the newest 1.36 patch the Go module proxy serves (checked with
# `go list -m -versions k8s.io/kubernetes`). Pinned so every machine tests the same server.
KUBE_VERSION="${EMBEDOPS_KUBE_VERSION:-v1.36.3}"
CACHE_ROOT="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
KUBE_DIR="$CACHE_ROOT/kube/$KUBE_VERSION"
BIN="$KUBE_DIR/kube-apiserver"

log() { printf '[build-kube-apiserver] %s\n' "$*" >&2; }
die() { printf '[build-kube-apiserver] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (re-run as root or install it yourself)"
  fi
}

# apt's package lists may be absent on a fresh machine; update only when an install fails,
# so the warm path never touches the network.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* with your package manager"
  log "installing $* with apt-get"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; then
    as_root apt-get update >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 \
      || die "apt-get install $* failed"
  fi
}

ensure_tools() {
  # Debian 12 ships etcd as package etcd-server, binary /usr/bin/etcd.
  command -v etcd >/dev/null 2>&1 || apt_install etcd-server
  command -v openssl >/dev/null 2>&1 || apt_install openssl
  log "etcd: $(command -v etcd) ($(etcd --version 2>/dev/null | head -n1))"
  log "openssl: $(command -v openssl) ($(openssl version))"
}

works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

build_from_source() {
  command -v go >/dev/null 2>&1 || die "go not found on PATH; install Go >= 1.25 to build kube-apiserver"
  local minor staging work gomod modules started
  minor="$(printf '%s' "$KUBE_VERSION" | cut -d. -f2)"
  # Staging modules (k8s.io/api, apiserver, ...) are tagged v0.<minor>.<patch> alongside v1.<minor>.<patch>.
  staging="v0.${KUBE_VERSION#v1.}"
  work="$KUBE_DIR/build"
  mkdir -p "$work"
  started=$(date +%s)

  log "downloading k8s.io/kubernetes@$KUBE_VERSION through the Go module proxy"
  gomod="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" \
    | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
  [ -f "$gomod" ] || die "could not download k8s.io/kubernetes@$KUBE_VERSION (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"

  # kubernetes' go.mod requires its staging modules at v0.0.0 and replaces them with
  # ./staging/src/...; replace directives of a dependency are ignored, so the wrapper must
  # repeat every one of them, pointing at the published tag instead of the local directory.
  modules="$(awk '{ for (i = 1; i < NF; i++) if ($(i+1) == "=>" && $(i+2) ~ /^\.\/staging\/src\//) print $i }' "$gomod" | sort -u)"
  [ -n "$modules" ] || die "found no ./staging/src replace directives in $gomod; the layout of k8s.io/kubernetes changed"
  log "replacing $(printf '%s\n' "$modules" | wc -l) staging modules with $staging"

  rm -f "$work/go.mod" "$work/go.sum"
  (
    cd "$work"
    go mod init embedops.dev/kube-apiserver-build >/dev/null 2>&1
    go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    local args=()
    for m in $modules; do args+=("-replace=$m=$m@$staging"); done
    go mod edit "${args[@]}"
    # Only the packages kube-apiserver imports get go.sum entries; `go mod tidy` would also
    # fetch every test dependency of kubernetes.
    log "resolving dependencies (go get)"
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2
    log "compiling (go build, CGO_ENABLED=0); ~6 min on 2 idle cores, longer on a busy machine"
    CGO_ENABLED=0 go build -trimpath -o "$BIN.tmp" -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=$minor \
      -X k8s.io/component-base/version.gitTreeState=clean" \
      k8s.io/kubernetes/cmd/kube-apiserver >&2
  ) || die "building kube-apiserver $KUBE_VERSION failed (see the go output above); to use a prebuilt binary set KUBEBUILDER_ASSETS to its directory"
  works "$BIN.tmp" || die "the freshly built $BIN.tmp does not run"
  # Atomic rename: a concurrent reader never sees a half-written binary.
  mv -f "$BIN.tmp" "$BIN"
  log "built $("$BIN" --version) in $(( $(date +%s) - started ))s, $(du -h "$BIN" | cut -f1)"
}

main() {
  ensure_tools

  if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -e "$KUBEBUILDER_ASSETS/kube-apiserver" ]; then
    works "$KUBEBUILDER_ASSETS/kube-apiserver" \
      || die "$KUBEBUILDER_ASSETS/kube-apiserver exists but '--version' fails; fix or unset KUBEBUILDER_ASSETS"
    log "using $KUBEBUILDER_ASSETS/kube-apiserver ($("$KUBEBUILDER_ASSETS/kube-apiserver" --version))"
    printf '%s\n' "$KUBEBUILDER_ASSETS/kube-apiserver"
    return
  fi

  mkdir -p "$KUBE_DIR"
  # Two test runs starting at once must not both spend five minutes compiling.
  exec 9>"$KUBE_DIR/.lock"
  flock 9
  if works "$BIN"; then
    log "cached: $BIN ($("$BIN" --version))"
  else
    build_from_source
  fi
  printf '%s\n' "$BIN"
}

main "$@"
