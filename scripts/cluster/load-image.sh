#!/usr/bin/env bash
# Loads an OCI image tarball (scripts/image/oci-image.py) into the one-node cluster's containerd,
# in the k8s.io namespace kubelet uses. Pods then run it with imagePullPolicy Never/IfNotPresent.
#   scripts/cluster/load-image.sh IMAGE.tar
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/cluster/env.sh
tar="${1:?usage: scripts/cluster/load-image.sh IMAGE.tar}"
[ -f "$tar" ] || cdie "no such image tarball: $tar"
[ -S "$CONTAINERD_SOCK" ] || cdie "containerd is not running ($CONTAINERD_SOCK missing); run npm run cluster:up first"
ctr -a "$CONTAINERD_SOCK" -n k8s.io images import "$tar" >&2 \
  || cdie "ctr images import $tar failed (see above)"
