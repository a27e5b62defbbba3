#!/usr/bin/env bash
# Build (or re-use) the project virtualenv .venv/ with the pinned OpenMMLab stack.
#
#   bash scripts/setup_env.sh          everything, mmcv with its compiled ops
#   bash scripts/setup_env.sh --quick  what RM pretraining needs (mmcv-lite), the
#                                      mmcv ops build continues in the background
#
# Idempotent: a stamp in the venv holds a key (these scripts, setup.py, Python,
# MMRM_MMCV_CUDA, TORCH_CUDA_ARCH_LIST and the GPUs nvidia-smi lists); when it
# matches, this returns at once. Otherwise scripts/setup_venv.py installs
# (pins there), scripts/mmcv_plan.py picks the mmcv build for this machine (CPU
# ops; CUDA ops for its GPUs, MMRM_MMCV_CUDA=1/0 to force) and
# scripts/mmcv_build.py builds it once per cache key under $MMRM_CACHE
# (default ~/.cache/mmrm). MMRM_VENV: another venv path (e.g. to try set-up
# in /tmp). See docs/gpu.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMRM_VENV:-$ROOT/.venv}"
PY_BIN="${MMRM_PYTHON:-python3.11}"
QUICK=()
if [[ "${1:-}" == "--quick" ]]; then QUICK=(--quick); fi

GPUS=$( (nvidia-smi -L 2>/dev/null || true) | sed 's/ (UUID.*//' | tr '\n' ';')
SRC_HASH=$(cat "$ROOT"/scripts/setup_env.sh "$ROOT"/scripts/setup_venv.py \
  "$ROOT"/scripts/mmcv_plan.py "$ROOT"/scripts/mmcv_build.py "$ROOT"/setup.py |
  sha1sum | cut -c1-16)
KEY="src=$SRC_HASH py=$PY_BIN mmcv_cuda=${MMRM_MMCV_CUDA-} archs=${TORCH_CUDA_ARCH_LIST-} visible=${CUDA_VISIBLE_DEVICES-all} gpus=$GPUS"

stamp_is() { [[ -f "$VENV/$1" && "$(cat "$VENV/$1")" == "$KEY" ]]; }
if stamp_is .mmrm-setup-stamp; then exit 0; fi
if [[ ${#QUICK[@]} -gt 0 ]] && stamp_is .mmrm-setup-stamp-quick; then exit 0; fi

t0=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "[setup_env] creating $VENV with $PY_BIN" >&2
  "$PY_BIN" -m venv "$VENV"
fi
"$VENV/bin/python" "$ROOT/scripts/setup_venv.py" --venv "$VENV" --key "$KEY" \
  --cache "${MMRM_CACHE:-$HOME/.cache/mmrm}" "${QUICK[@]}"
echo "[setup_env] done in $(( $(date +%s) - t0 )) s" >&2
