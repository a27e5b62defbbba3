#!/usr/bin/env bash
# Set the project up if needed (idempotent), fetch the real test data, run pytest
# in the venv of the stack (the machine's, or MMRM_STACK's: see setup_env.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_env.sh
PY_BIN="${MMRM_PYTHON:-python3.11}"
STACK=$("$PY_BIN" scripts/mmcv_plan.py --stack 2>/dev/null)
VENV="${MMRM_VENV:-$("$PY_BIN" scripts/stacks.py venv "$STACK")}"
bash tools/dataset_converters/prepare_fashion_mnist.sh >/dev/null
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
echo "[run_tests] stack $STACK, $VENV" >&2
exec "$VENV/bin/python" -m pytest tests -n "${PYTEST_WORKERS:-2}" --durations=15 -q "$@"
