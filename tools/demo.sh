#!/usr/bin/env bash
# The README's main command: set up (idempotent), fetch real Fashion-MNIST,
# pretrain with RecursiveMix on the CPU; prints top-1 and where the checkpoint
# and logs went. DEMO_CONFIGS="a.py b.py" trains other configs in turn, e.g.
# the plain baseline on the same budget:
#   DEMO_CONFIGS="configs/pretrain/fashion_mnist/fmnist_resnet18w16_rm.py configs/pretrain/fashion_mnist/fmnist_resnet18w16_baseline.py" make demo
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
bash tools/prepare_fashion_mnist.sh >/dev/null
CONFIGS=${DEMO_CONFIGS:-configs/pretrain/fashion_mnist/fmnist_resnet18w16_rm.py}
exec .venv/bin/python tools/demo.py $CONFIGS "$@"
