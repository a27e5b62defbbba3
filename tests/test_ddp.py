"""RM under DDP: 2 processes, gloo, CPU; history per rank, no unused params."""
import json
import os
import subprocess
import sys

import pytest

from helpers import failure_excerpt, free_port

HERE = os.path.dirname(os.path.abspath(__file__))


def run_ddp(tmp_path, *extra):
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           f'--master_port={free_port()}', '--master_addr=127.0.0.1',
           os.path.join(HERE, 'scripts', 'ddp_rm_steps.py'), str(tmp_path), *extra]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, failure_excerpt(proc.stdout + proc.stderr)
    return [json.load(open(tmp_path / f'rank{r}.json')) for r in range(2)]


def test_two_process_gloo_ddp_keeps_history_per_rank(tmp_path):
    r0, r1 = run_ddp(tmp_path, '--iters', '3')
    # find_unused_parameters=False and 3 steps passed: fc_roi took part in
    # every step, also the first one where nothing was pasted
    assert r0['loss_rm'][0] == 0.0 and r1['loss_rm'][0] == 0.0
    assert r0['loss_rm'][1] > 0 or r0['loss_rm'][2] > 0
    # gradients were averaged: identical weights on both ranks
    assert r0['weights_sum'] == pytest.approx(r1['weights_sum'], rel=1e-9)
    assert r0['fc_roi_sum'] == pytest.approx(r1['fc_roi_sum'], rel=1e-9)
    # each rank keeps its own history (different data on each rank)
    assert r0['history_sum'] != r1['history_sum']


def test_ranks_with_different_last_batch_sizes_neither_hang_nor_fail(tmp_path):
    """No drop_last: rank 0 ends with 3 images, rank 1 with 1 (history has 4)."""
    r0, r1 = run_ddp(tmp_path, '--iters', '3', '--last-batch', '3', '1')
    assert r0['batch'] == [4, 4, 3] and r1['batch'] == [4, 4, 1]
    assert r0['history_len'] == [4, 4, 3] and r1['history_len'] == [4, 4, 1]
    assert r0['weights_sum'] == pytest.approx(r1['weights_sum'], rel=1e-9)
