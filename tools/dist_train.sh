#!/usr/bin/env bash
# Distributed training with torchrun:  tools/dist_train.sh CONFIG GPUS [train.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as in the OpenMMLab repos.
# Python: $PYTHON, else the project venv (.venv/bin/python) if present, else python.
# Without CUDA the processes run on the CPU with the gloo backend.
# The config and GPUS are checked before launching; after a failure the first
# failing rank's error is printed last (LOG_DIR keeps the per-rank error files).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launcher.sh"
[[ $# -ge 2 ]] || die "usage: $0 CONFIG GPUS [tools/train.py args...]"
require_file "config file" "$1"
require_count GPUS "$2"
run_torchrun "$2" "$TOOLS/train.py" "$1" --launcher pytorch "${@:3}"
