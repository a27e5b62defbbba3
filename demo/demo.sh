#!/usr/bin/env bash
# The README's main command: set up (idempotent), fetch real Fashion-MNIST,
# pretrain with RecursiveMix on the CPU; prints top-1 and where the checkpoint
# and logs went. DEMO_CONFIGS="a.py b.py" trains other configs in turn, e.g.
# the plain baseline on the same budget:
#   DEMO_CONFIGS="configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e_fmnist-64px.py" make demo
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_env.sh --quick   # RM pretraining needs no mmcv ops: see docs/gpu.md
bash tools/dataset_converters/prepare_fashion_mnist.sh >/dev/null
CONFIGS=${DEMO_CONFIGS:-configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py}
exec .venv/bin/python demo/demo.py $CONFIGS "$@"
