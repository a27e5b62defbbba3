#!/usr/bin/env bash
# Does mmrm run on this GPU machine? One command after `bash scripts/setup_env.sh`
# (at most ~8 minutes on one GPU): mmcv's CUDA ops, paper Table 10 (ResNet-50,
# batch 64, AMP), one iteration + evaluation of ATSS / Mask R-CNN / UperNet R50
# from a converted RM checkpoint, a 2-GPU tools/dist_train.sh run when 2 GPUs
# exist. Prints one table; JSON in work_dirs/gpu_check/gpu_check.json.
#   tools/gpu_check.sh [--steps ops table10 atss mask_rcnn upernet dist]
#                      [--dry-run] [--cpu] [--out DIR]
# Python: $PYTHON, else the project venv. See docs/gpu.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
exec "$PYTHON" tools/gpu_check.py --python "$PYTHON" "$@"
