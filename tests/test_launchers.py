"""tools/dist_*.sh and tools/slurm_*.sh: arguments checked before anything is
launched; after a failed run the first failing rank's own error is the last
thing printed (per-rank error files, torch.distributed.elastic's @record).

Slurm is replaced by a stand-in ``srun`` on PATH that starts the tasks at
once with ``SLURM_PROCID`` set and waits for all of them. The real 2-process torchrun
failure is in tests/test_tools.py (it needs the Fashion-MNIST fixture)."""
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest

from helpers import write_fake_srun

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CFG = 'configs/pretrain/fashion_mnist/resnet18-w16_1xb128-3e-rm_fmnist-64px.py'


def _executable(path, text):
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.fixture
def fakes(tmp_path):
    """``(env, marker)``: PATH with the stand-in srun; PYTHON a stand-in that
    only records that it was started (for the checks that must stop before
    any launch). The marker file exists once srun or PYTHON ran."""
    marker = tmp_path / 'launched'
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    write_fake_srun(bin_dir)
    fake_python = _executable(tmp_path / 'python',
                              f'#!/usr/bin/env bash\ntouch {marker}\n')
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}',
               PYTHON=fake_python, MARKER=str(marker),
               LOG_DIR=str(tmp_path / 'logs'))
    return env, marker


def _run(argv, env, timeout=300):
    proc = subprocess.run(['bash', *argv], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize('argv,gpus,message', [
    (['tools/dist_train.sh', 'configs/nope.py', '2'], None,
     'config file not found: configs/nope.py'),
    (['tools/dist_train.sh', CFG, '0'], None,
     "GPUS must be a positive integer, got '0'"),
    (['tools/dist_train.sh', CFG, 'two'], None,
     "GPUS must be a positive integer, got 'two'"),
    (['tools/dist_train.sh', CFG], None, 'usage:'),
    (['tools/dist_test.sh', CFG, 'nope.pth', '2'], None,
     'checkpoint not found: nope.pth'),
    (['tools/dist_test.sh', 'configs/nope.py', CFG, '2'], None,
     'config file not found'),
    (['tools/slurm_train.sh', 'part', 'job', 'configs/nope.py', 'work'],
     None, 'config file not found: configs/nope.py'),
    (['tools/slurm_train.sh', 'part', 'job', CFG, 'work'], '-1',
     "GPUS must be a positive integer, got '-1'"),
    (['tools/slurm_test.sh', 'part', 'job', CFG, 'nope.pth'], None,
     'checkpoint not found: nope.pth'),
])
def test_bad_arguments_stop_before_launch(fakes, argv, gpus, message):
    env, marker = fakes
    if gpus is not None:
        env['GPUS'] = gpus
    code, out = _run(argv, env)
    assert code == 2 and message in out, out
    assert not marker.exists(), 'the launcher started anyway'


RANK_FAILS = """
import os
import time
from torch.distributed.elastic.multiprocessing.errors import record


@record  # as tools/train.py and tools/test.py run under a launcher
def main():
    rank = os.environ["SLURM_PROCID"]
    if rank == '0':  # rank 0 fails over a second after rank 1 has failed
        other = os.environ['TORCHELASTIC_ERROR_FILE'].replace('rank0', 'rank1')
        end = time.time() + 120
        while not os.path.exists(other) and time.time() < end:
            time.sleep(0.1)
        time.sleep(1.1)  # the error files' timestamps are whole seconds
    raise FileNotFoundError(f'rank {rank}: data_root does not exist')


main()
"""


def test_slurm_failure_ends_with_the_first_failing_rank_error(fakes,
                                                              tmp_path):
    """Both tasks fail, rank 1 first: the output ends with rank 1's own
    traceback (first in time, not the lowest rank), read from its error
    file (the stand-in Python runs a script that fails like tools/train.py
    does, under @record, without its imports)."""
    env, marker = fakes
    script = tmp_path / 'rank_fails.py'
    script.write_text(RANK_FAILS)
    env['PYTHON'] = _executable(  # runs the launcher's own report as is
        tmp_path / 'failing_python',
        f'#!/usr/bin/env bash\n[[ $1 == - ]] && exec {sys.executable} "$@"\n'
        f'exec {sys.executable} {script}\n')
    env['GPUS'] = env['GPUS_PER_NODE'] = '2'
    code, out = _run(['tools/slurm_train.sh', 'part', 'job', CFG,
                      str(tmp_path / 'work')], env)
    assert code != 0 and marker.exists()
    tail = out.rstrip().splitlines()
    first = max(i for i, line in enumerate(tail)
                if line.startswith('first failing: rank 1 (2 rank(s) '
                                   'failed'))
    assert tail[first + 2].startswith('Traceback'), out[-2000:]
    assert tail[-1] == 'FileNotFoundError: rank 1: data_root does not exist'
    # the error files stay for the user, one per rank
    logs = [f for _, _, fs in os.walk(tmp_path / 'logs') for f in fs]
    assert sorted(logs) == ['rank0.json', 'rank1.json']


def test_successful_slurm_run_removes_its_error_folder(fakes, tmp_path):
    env, _ = fakes
    env['PYTHON'] = _executable(tmp_path / 'ok_python',
                                '#!/usr/bin/env bash\nexit 0\n')
    env['GPUS'] = env['GPUS_PER_NODE'] = '2'
    code, out = _run(['tools/slurm_test.sh', 'part', 'job', CFG, CFG], env)
    assert code == 0, out
    assert os.listdir(tmp_path / 'logs') == []
