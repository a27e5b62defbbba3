# Shared by dist_{train,test}.sh and slurm_{train,test}.sh (sourced, not run).
#
# Checks the arguments before anything is launched, then launches with a
# per-rank error file (torch.distributed.elastic's TORCHELASTIC_ERROR_FILE,
# written by tools/train.py / tools/test.py under @record). After a failed
# run the first failing rank's own traceback is printed last, below the
# launcher's summary. The error files go to a new folder per run inside
# LOG_DIR (env; default /tmp), removed after a successful run.

TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$TOOLS")"
LAUNCHER="$(basename "$0")"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

die() { echo "$LAUNCHER: error: $*" >&2; exit 2; }

# require_file WHAT PATH: stop unless PATH is a file
require_file() {
  [[ -f "$2" ]] || die "$1 not found: $2"
}

# require_count NAME VALUE: stop unless VALUE is a positive integer
require_count() {
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"
}

# new_log_dir: a fresh folder for this run's error files, inside LOG_DIR
# when set (which must then be on a file system all ranks see), else in /tmp
new_log_dir() {
  local parent="${LOG_DIR:-${TMPDIR:-/tmp}}"
  mkdir -p "$parent"
  LOG_DIR="$(mktemp -d "$parent/mmrm_${LAUNCHER%.sh}_$(date +%Y%m%d_%H%M%S).XXXX")"
}

# finish STATUS: on failure print the first failing rank's error (last);
# on success remove this run's error folder. Exits with STATUS.
finish() {
  local status=$1
  if [[ $status -ne 0 ]]; then
    "$PYTHON" - "$LOG_DIR" "$status" <<'PYEOF' >&2
import glob, json, os, sys
log_dir, status = sys.argv[1], sys.argv[2]
found = []
for path in glob.glob(os.path.join(log_dir, '**', '*.json'), recursive=True):
    try:
        with open(path) as f:
            msg = json.load(f)['message']
    except (OSError, ValueError, KeyError, TypeError):
        continue
    if isinstance(msg, str):  # copied by torchrun's parent error handler
        msg = {'message': msg, 'extraInfo': {}}
    extra = msg.get('extraInfo', {})
    # torchrun: LOG_DIR/<run>/attempt_N/<local rank>/error.json;
    # slurm_*.sh: LOG_DIR/rank<N>.json
    name = os.path.basename(path)
    rank = f'rank {name[4:-5]}' if name.startswith('rank') else \
        f'local rank {os.path.basename(os.path.dirname(path))}'
    found.append((int(extra.get('timestamp', 0) or 0), os.stat(path).st_mtime_ns,
                  rank, path, extra.get('py_callstack') or msg['message']))
bar = '=' * 72
if not found:
    print(f'{bar}\nrun failed (exit status {status}); no rank wrote an error '
          f'file: the error is in the rank output above (an argument error, '
          f'or a crash or signal before Python could record it)\n{bar}')
    sys.exit()
_, _, rank, path, text = min(found)
print(f'{bar}\nfirst failing: {rank} ({len(found)} rank(s) failed; '
      f'error file {path})\n{bar}\n{text.rstrip()}')
PYEOF
  else
    rm -rf "$LOG_DIR"  # only this run's (empty) error folders
  fi
  exit "$status"
}

# run_torchrun NPROC SCRIPT ARGS...: torchrun on this node (NNODES,
# NODE_RANK, MASTER_ADDR, PORT from the environment as in OpenMMLab repos)
run_torchrun() {
  local nproc=$1; shift
  new_log_dir
  local status=0
  "$PYTHON" -m torch.distributed.run \
      --nnodes="${NNODES:-1}" \
      --node_rank="${NODE_RANK:-0}" \
      --master_addr="${MASTER_ADDR:-127.0.0.1}" \
      --nproc_per_node="$nproc" \
      --master_port="${PORT:-29500}" \
      --log-dir="$LOG_DIR" \
      "$@" || status=$?
  finish "$status"
}

# run_srun PARTITION JOB_NAME ARGS...: one task per GPU (GPUS,
# GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS from the environment); every task
# records its error in LOG_DIR/rank<SLURM_PROCID>.json
run_srun() {
  local partition=$1 job=$2; shift 2
  new_log_dir
  local status=0
  set -x
  # shellcheck disable=SC2086  # SRUN_ARGS is a list of words
  srun -p "$partition" \
      --job-name="$job" \
      --gres=gpu:"$GPUS_PER_NODE" \
      --ntasks="$GPUS" \
      --ntasks-per-node="$GPUS_PER_NODE" \
      --cpus-per-task="$CPUS_PER_TASK" \
      --kill-on-bad-exit=1 \
      ${SRUN_ARGS:-} \
      bash -c 'TORCHELASTIC_ERROR_FILE="$0/rank${SLURM_PROCID}.json" exec "$@"' \
      "$LOG_DIR" "$@" || status=$?
  { set +x; } 2>/dev/null
  finish "$status"
}

# slurm_counts: defaults and checks of GPUS, GPUS_PER_NODE, CPUS_PER_TASK
slurm_counts() {
  GPUS=${GPUS:-8}
  GPUS_PER_NODE=${GPUS_PER_NODE:-8}
  CPUS_PER_TASK=${CPUS_PER_TASK:-5}
  require_count GPUS "$GPUS"
  require_count GPUS_PER_NODE "$GPUS_PER_NODE"
  require_count CPUS_PER_TASK "$CPUS_PER_TASK"
}
