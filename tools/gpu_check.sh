#!/usr/bin/env bash
# Does mmrm run on this GPU machine? One command after `bash scripts/setup_env.sh`
# or after installing a wheel bundle (scripts/bundle.py), at most ~8 minutes on
# one GPU: mmcv's CUDA ops, paper Table 10 (ResNet-50, batch 64, AMP), one
# iteration + evaluation of ATSS / Mask R-CNN / UperNet R50 from a converted RM
# checkpoint, a 2-GPU tools/dist_train.sh run when 2 GPUs exist. Prints one
# table; JSON in work_dirs/gpu_check/gpu_check.json.
#   tools/gpu_check.sh [--steps ops table10 atss mask_rcnn upernet dist]
#                      [--dry-run] [--cpu] [--out DIR]
# Python: $PYTHON, else the project venv (.venv) if there is one, else python3
# on PATH (a site-provided torch with the bundle on PYTHONPATH). See docs/gpu.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"
  else PYTHON="$(command -v python3 || true)"; fi
fi
if [[ -z "$PYTHON" ]]; then
  echo "gpu_check: no python: set PYTHON=/path/to/python (the one with torch)" >&2
  exit 2
fi
exec "$PYTHON" tools/gpu_check.py --python "$PYTHON" "$@"
