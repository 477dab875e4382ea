#!/usr/bin/env bash
# The kube-apiserver for test/integration: scripts/build-kube.sh with that one component (kept as
# its own entry point because the integration harness and its error messages name it).
set -euo pipefail
exec bash "$(dirname "$0")/build-kube.sh" kube-apiserver
