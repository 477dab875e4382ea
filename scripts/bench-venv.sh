#!/usr/bin/env bash
# Python environments for the benchmarks, in the cache (never in the repo):
#   venv-bench     matplotlib, which draws bench/results/*.png (bench/lib/plot.py)
#   venv-infinity  Infinity (infinity-emb, ONNX backend via optimum), the encoder benchmark's peer (d).
#                  It reuses torch/transformers from scripts/setup-models.sh's venv-models through a
#                  .pth file rather than downloading a second multi-GB torch.
# Pins are exact; a venv is rebuilt only when its pins change (a stamp holds their sha256).
# Usage: bash scripts/bench-venv.sh [--plot-only]. Exit 0 even when Infinity fails to install: the
# benchmark then reports that failure (the log is $CACHE/venv-infinity.log).
set -euo pipefail
CACHE="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
log() { echo "[bench-venv] $*" >&2; }

python_bin() {
  for p in python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1 &&
      "$p" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "bench-venv: needs CPython 3.11" >&2
  exit 1
}

# ensure NAME PINS [PTH]: (re)build $CACHE/NAME with exactly PINS unless its stamp matches.
ensure() {
  local name=$1 pins=$2 pth=${3:-}
  local venv="$CACHE/$name" stamp="$CACHE/$name/.embedops-pins.sha256"
  local sha
  sha=$(printf '%s\n%s\n' "$pins" "$pth" | sha256sum | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sha" ]]; then
    return 0
  fi
  log "creating $venv"
  rm -rf "$venv"
  mkdir -p "$CACHE"
  "$(python_bin)" -m venv "$venv"
  if [[ -n "$pth" ]]; then
    echo "$pth" >"$venv/lib/python3.11/site-packages/_embedops_shared.pth"
  fi
  local reqs="$venv/requirements.txt"
  printf '%s\n' "$pins" >"$reqs"
  if ! "$venv/bin/pip" install --disable-pip-version-check --no-input -r "$reqs" >"$CACHE/$name.log" 2>&1; then
    log "pip install failed for $name; see $CACHE/$name.log"
    tail -n 20 "$CACHE/$name.log" >&2
    return 1
  fi
  echo "$sha" >"$stamp"
  log "$name ready"
}

PLOT_PINS='matplotlib==3.11.2'
ensure venv-bench "$PLOT_PINS"
[[ "${1:-}" == "--plot-only" ]] && exit 0

# infinity-emb 0.0.78 with the versions pip resolved for it here (pip freeze), so a later run gets
# the same server. torch, transformers and onnx come from venv-models.
INFINITY_PINS='infinity-emb[server,optimum]==0.0.78
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
backoff==2.2.1
click==8.1.8
distro==1.9.0
fastapi==0.165.0
flatbuffers==25.12.19
h11==0.16.0
httptools==0.9.0
markdown-it-py==4.3.0
mdurl==0.1.2
ml_dtypes==0.5.4
numpy==1.26.4
onnxruntime==1.32.0
opentelemetry-api==1.45.2
optimum==2.1.0
optimum-onnx==0.1.0
orjson==3.13.0
posthog==7.91.1
prometheus-fastapi-instrumentator==8.1.0
prometheus_client==0.26.0
pydantic==2.14.4
pydantic_core==2.50.5
Pygments==2.21.0
python-dotenv==1.2.4
rich==13.9.4
shellingham==1.5.4
starlette==1.10.0
typer==0.12.5
typing-inspection==0.4.5
uvicorn==0.32.1
uvloop==0.23.0
watchfiles==1.3.0
websockets==17.4'
MODELS_SITE="$CACHE/venv-models/lib/python3.11/site-packages"
if [[ ! -d "$MODELS_SITE" ]]; then
  log "no $MODELS_SITE (torch, transformers): run npm run setup:models first; Infinity is skipped"
  exit 0
fi
ensure venv-infinity "$INFINITY_PINS" "$MODELS_SITE" || log "Infinity is not installed; the benchmark reports why"
exit 0
