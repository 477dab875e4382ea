#!/usr/bin/env bash
# versitygw, an S3-compatible gateway whose posix backend serves a plain directory as buckets: the
# snapshot-store tests talk real S3 (multipart uploads, ranged streams, real error codes) to it.
# Built from the Go module proxy like toxiproxy and cached under $EMBEDOPS_CACHE. The main package
# is cmd/versitygw (the module root is a library). Prints the binary's path on the last line.
set -euo pipefail
version="${VERSITYGW_VERSION:-v1.8.0}"
cache="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}/versitygw/$version"
bin="$cache/versitygw"
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
echo "building versitygw $version from the Go module proxy..." >&2
start=$(date +%s)
# Build into a scratch GOBIN and move, so a half-finished build never sits at $bin.
scratch="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
GOBIN="$scratch" GOFLAGS=-mod=mod CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X main.Version=$version -X main.Build=module-proxy" \
  "github.com/versity/versitygw/cmd/versitygw@$version" >&2
mv "$scratch/versitygw" "$bin"
echo "built versitygw in $(( $(date +%s) - start ))s" >&2
"$bin" --version >&2
echo "$bin"
