#!/usr/bin/env bash
# Set the project up if needed (idempotent), fetch the real test data, run pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_env.sh
bash tools/dataset_converters/prepare_fashion_mnist.sh >/dev/null
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
exec .venv/bin/python -m pytest tests -n "${PYTEST_WORKERS:-2}" --durations=15 -q "$@"
