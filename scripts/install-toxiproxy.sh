#!/usr/bin/env bash
# toxiproxy-server for the fault-injection tests (a real TCP proxy between the router and an encoder
# that adds latency or resets connections on command), built from the Go module proxy like helm and
# cached under $EMBEDOPS_CACHE. Prints the binary's path on the last line.
set -euo pipefail
version="${TOXIPROXY_VERSION:-v2.5.0}"
cache="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}/toxiproxy/$version"
bin="$cache/toxiproxy-server"
if [ -x "$bin" ] && "$bin" -version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
echo "building toxiproxy-server $version from the Go module proxy..." >&2
start=$(date +%s)
# go install names the binary after its package directory (cmd/server -> "server"); build into a
# scratch GOBIN and rename, so a half-finished build never sits at $bin.
scratch="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
GOBIN="$scratch" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X github.com/Shopify/toxiproxy/v2.Version=$version" \
  "github.com/Shopify/toxiproxy/v2/cmd/server@$version" >&2
mv "$scratch/server" "$bin"
echo "built toxiproxy-server in $(( $(date +%s) - start ))s" >&2
"$bin" -version >&2
echo "$bin"
