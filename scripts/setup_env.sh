#!/usr/bin/env bash
# Build (or re-use) the project virtualenv with a pinned stack
# (requirements/stack-<name>.txt).
#
#   bash scripts/setup_env.sh          everything, mmcv with its compiled ops
#   bash scripts/setup_env.sh --quick  what RM pretraining needs (mmcv-lite), the
#                                      mmcv ops build continues in the background
#
# The stack follows the machine (scripts/mmcv_plan.py, docs/install.md): with an
# NVIDIA driver that runs CUDA 13.0+ `latest`, with one that runs CUDA 12.1-12.x
# `openmmlab`, with an older one a stop before anything is downloaded, without
# a GPU `latest`; MMRM_STACK=latest|openmmlab overrides. The venv is .venv for
# the machine's own stack and .venv-<stack> for another one asked for with
# MMRM_STACK; MMRM_VENV: another path (e.g. to try set-up in /tmp).
#
# Idempotent: a stamp in the venv holds a key (these scripts, requirements/,
# setup.py, the stack, Python, MMRM_MMCV_CUDA, TORCH_CUDA_ARCH_LIST and the
# GPUs nvidia-smi lists); when it matches, this returns at once. Otherwise
# scripts/setup_venv.py installs the stack's pins, scripts/mmcv_plan.py picks
# the mmcv build for this machine (CPU ops; CUDA ops for its GPUs,
# MMRM_MMCV_CUDA=1/0 to force) and scripts/mmcv_build.py builds it once per
# cache key under $MMRM_CACHE (default ~/.cache/mmrm). See docs/gpu.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY_BIN="${MMRM_PYTHON:-python3.11}"
QUICK=()
if [[ "${1:-}" == "--quick" ]]; then QUICK=(--quick); fi

# the stack and the venv (exit 2 with the reason: a driver too old for both
# stacks, or a CUDA build with no compiler to make it)
STACK=$("$PY_BIN" "$ROOT/scripts/mmcv_plan.py" --stack)
VENV="${MMRM_VENV:-$("$PY_BIN" "$ROOT/scripts/stacks.py" venv "$STACK")}"

GPUS=$( (nvidia-smi -L 2>/dev/null || true) | sed 's/ (UUID.*//' | tr '\n' ';')
SRC_HASH=$(cat "$ROOT"/scripts/setup_env.sh "$ROOT"/scripts/setup_venv.py \
  "$ROOT"/scripts/mmcv_plan.py "$ROOT"/scripts/mmcv_build.py \
  "$ROOT"/scripts/stacks.py "$ROOT"/scripts/machine_facts.py \
  "$ROOT"/requirements/*.txt "$ROOT"/setup.py |
  sha1sum | cut -c1-16)
KEY="src=$SRC_HASH stack=$STACK py=$PY_BIN mmcv_cuda=${MMRM_MMCV_CUDA-} archs=${TORCH_CUDA_ARCH_LIST-} visible=${CUDA_VISIBLE_DEVICES-all} gpus=$GPUS"

stamp_is() { [[ -f "$VENV/$1" && "$(cat "$VENV/$1")" == "$KEY" ]]; }
if stamp_is .mmrm-setup-stamp; then exit 0; fi
if [[ ${#QUICK[@]} -gt 0 ]] && stamp_is .mmrm-setup-stamp-quick; then exit 0; fi

t0=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "[setup_env] creating $VENV with $PY_BIN (stack $STACK)" >&2
  "$PY_BIN" -m venv "$VENV"
fi
"$VENV/bin/python" "$ROOT/scripts/setup_venv.py" --venv "$VENV" --key "$KEY" \
  --stack "$STACK" --cache "${MMRM_CACHE:-$HOME/.cache/mmrm}" "${QUICK[@]}"
echo "[setup_env] done in $(( $(date +%s) - t0 )) s" >&2
