#!/usr/bin/env bash
# Testing on a Slurm cluster:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py args]
# The arguments are checked before srun; after a failure the first failing
# rank's error is printed last (LOG_DIR, default
# work_dirs/launcher_errors/JOB_NAME, keeps the per-rank error files; it must
# be on a shared file system).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_launcher.sh"
[[ $# -ge 4 ]] || die "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py args...]"
require_file "config file" "$3"
require_file "checkpoint" "$4"
slurm_counts
LOG_DIR="${LOG_DIR:-work_dirs/launcher_errors/$2}"
run_srun "$1" "$2" "$PYTHON" -u "$TOOLS/test.py" "$3" "$4" --launcher=slurm "${@:5}"
