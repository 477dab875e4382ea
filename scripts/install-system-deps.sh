#!/usr/bin/env bash
# Debian packages the tests and setup need. Idempotent: installs only what is missing.
set -euo pipefail
missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
# The rollout analysis' Prometheus provider is tested against a real Prometheus.
command -v prometheus >/dev/null || missing+=(prometheus)
command -v openssl >/dev/null || missing+=(openssl)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
[ -f /usr/share/wordnet/data.noun ] || missing+=(wordnet-base)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "system packages present"
fi
