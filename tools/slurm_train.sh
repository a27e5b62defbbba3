#!/usr/bin/env bash
# Training on a Slurm cluster:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py args]
# One task per GPU; mmengine reads the rank from the Slurm environment.
# The arguments are checked before srun; after a failure the first failing
# rank's error is printed last (LOG_DIR, default WORK_DIR/launcher_errors,
# keeps the per-rank error files; it must be on a shared file system).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launcher.sh"
[[ $# -ge 4 ]] || die "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py args...]"
require_file "config file" "$3"
slurm_counts
LOG_DIR="${LOG_DIR:-$4/launcher_errors}"
run_srun "$1" "$2" "$PYTHON" -u "$TOOLS/train.py" "$3" --work-dir="$4" --launcher=slurm "${@:5}"
