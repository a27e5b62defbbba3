#!/usr/bin/env bash
# Distributed testing with torchrun:  tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT as in the OpenMMLab repos.
# Python: $PYTHON, else the project venv (.venv/bin/python) if present, else python.
# Without CUDA the processes run on the CPU with the gloo backend.
# The arguments are checked before launching; after a failure the first
# failing rank's error is printed last (LOG_DIR keeps the per-rank error files).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launcher.sh"
[[ $# -ge 3 ]] || die "usage: $0 CONFIG CHECKPOINT GPUS [tools/test.py args...]"
require_file "config file" "$1"
require_file "checkpoint" "$2"
require_count GPUS "$3"
run_torchrun "$3" "$TOOLS/test.py" "$1" "$2" --launcher pytorch "${@:4}"
