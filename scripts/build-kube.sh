#!/usr/bin/env bash
# Provides Kubernetes binaries built from source: kube-apiserver (plus etcd and openssl) for
# test/integration, and the node components (kubelet, kube-scheduler, kube-controller-manager,
# kube-proxy) for the one-node cluster of scripts/cluster/.
#
#   scripts/build-kube.sh [COMPONENT ...]      (default: kube-apiserver)
#
# Order of preference for each binary:
#   1. $KUBEBUILDER_ASSETS/<component> (the envtest convention, e.g. from setup-envtest);
#   2. the cache ${EMBEDOPS_CACHE:-$HOME/.cache/embedops}/kube/<version>/<component>;
#   3. a build from source through the Go module proxy into that cache.
# Upstream release binaries live on dl.k8s.io, which CI machines here cannot reach; the Go module
# proxy can, and k8s.io/kubernetes is a Go module, so we build it: ~12 CPU-minutes (~6 min on 2 idle
# cores, measured 26 min on a shared 2-core box at load 15), peak RSS 1.8 GB, 101 MB binary.
# Debian 12's etcd 3.4.23 serves it fine.
#
# The path of each component is printed on stdout, one a line in the order asked (so with one
# component, its path is the last line); everything else goes to stderr. Node components take
# ~1-2 min each with a warm Go build cache, kubelet ~8 min cold.
# Idempotent: a second run with a warm cache takes a few seconds.
set -euo pipefail

# v1.36.3 is the newest 1.36 patch the Go module proxy serves (checked with
# `go list -m -versions k8s.io/kubernetes`). Pinned so every machine tests the same server.
KUBE_VERSION="${EMBEDOPS_KUBE_VERSION:-v1.36.3}"
CACHE_ROOT="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
KUBE_DIR="$CACHE_ROOT/kube/$KUBE_VERSION"

log() { printf '[build-kube] %s\n' "$*" >&2; }
die() { printf '[build-kube] ERROR: %s\n' "$*" >&2; exit 1; }

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

# The wrapper module in $KUBE_DIR/build: requires k8s.io/kubernetes and pins its staging modules.
# Made once and kept, so each later component only adds its own go.sum entries.
prepare_module() {
  local work="$1" staging gomod modules
  # Staging modules (k8s.io/api, apiserver, ...) are tagged v0.<minor>.<patch> alongside v1.<minor>.<patch>.
  staging="v0.${KUBE_VERSION#v1.}"
  if [ -f "$work/go.mod" ] && grep -q "k8s.io/kubernetes $KUBE_VERSION" "$work/go.mod"; then
    return
  fi
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
    go mod init embedops.dev/kube-build >/dev/null 2>&1
    go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    local args=()
    for m in $modules; do args+=("-replace=$m=$m@$staging"); done
    go mod edit "${args[@]}"
  ) || die "could not write the wrapper go.mod in $work"
}

build_from_source() {
  local component="$1" bin="$KUBE_DIR/$1" minor work started
  command -v go >/dev/null 2>&1 || die "go not found on PATH; install Go >= 1.25 to build $component"
  minor="$(printf '%s' "$KUBE_VERSION" | cut -d. -f2)"
  work="$KUBE_DIR/build"
  mkdir -p "$work"
  started=$(date +%s)
  prepare_module "$work"
  (
    cd "$work"
    # Only the packages the component imports get go.sum entries; `go mod tidy` would also
    # fetch every test dependency of kubernetes.
    log "resolving dependencies of $component (go get)"
    go get "k8s.io/kubernetes/cmd/$component@$KUBE_VERSION" >&2
    log "compiling $component (go build, CGO_ENABLED=0); kube-apiserver ~6 min on 2 idle cores, longer on a busy machine"
    CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
      -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=$minor \
      -X k8s.io/component-base/version.gitTreeState=clean" \
      "k8s.io/kubernetes/cmd/$component" >&2
  ) || die "building $component $KUBE_VERSION failed (see the go output above); to use a prebuilt binary set KUBEBUILDER_ASSETS to its directory"
  works "$bin.tmp" || die "the freshly built $bin.tmp does not run"
  # Atomic rename: a concurrent reader never sees a half-written binary.
  mv -f "$bin.tmp" "$bin"
  log "built $component $("$bin" --version 2>&1 | head -n1) in $(( $(date +%s) - started ))s, $(du -h "$bin" | cut -f1)"
}

provide() {
  local component="$1"
  if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -e "$KUBEBUILDER_ASSETS/$component" ]; then
    works "$KUBEBUILDER_ASSETS/$component" \
      || die "$KUBEBUILDER_ASSETS/$component exists but '--version' fails; fix or unset KUBEBUILDER_ASSETS"
    log "using $KUBEBUILDER_ASSETS/$component"
    printf '%s\n' "$KUBEBUILDER_ASSETS/$component"
    return
  fi
  if works "$KUBE_DIR/$component"; then
    log "cached: $KUBE_DIR/$component"
  else
    build_from_source "$component"
  fi
  printf '%s\n' "$KUBE_DIR/$component"
}

main() {
  ensure_tools
  mkdir -p "$KUBE_DIR"
  # Two test runs starting at once must not both spend minutes compiling.
  exec 9>"$KUBE_DIR/.lock"
  flock 9
  local c
  for c in "${@:-kube-apiserver}"; do
    case "$c" in
      kube-apiserver | kubelet | kube-scheduler | kube-controller-manager | kube-proxy) provide "$c" ;;
      *) die "unknown component '$c'; expected kube-apiserver, kubelet, kube-scheduler, kube-controller-manager or kube-proxy" ;;
    esac
  done
}

main "$@"
