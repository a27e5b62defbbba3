"""Multi-node launches on one machine: two "nodes" of one process each, over
loopback with gloo (CUDA hidden, so that the same path runs on a GPU
machine), training the Fashion-MNIST RM demo for a few iterations.

- tools/dist_train.sh, run twice (NNODES=2, NODE_RANK=0/1,
  MASTER_ADDR=127.0.0.1): torchrun's static rendezvous joins them;
- tools/slurm_train.sh with a stand-in ``srun`` on PATH that does what srun
  does for 2 nodes x 1 task: starts the tasks at once, each with
  SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODEID, SLURM_NODELIST set
  (MASTER_ADDR is given, so no ``scontrol`` is needed).

Each rank writes its parameters, RM history and last batch's labels
(tests/scripts/rank_state_hook.py); the ranks must hold the same parameters
(gradients averaged) and each its own history (its own data shard).
"""
import os
import os.path as osp
import subprocess
import sys

import torch

from helpers import (failure_excerpt, free_port, run_launches,
                     write_fake_srun)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
RM = osp.join(ROOT, 'configs/pretrain/fashion_mnist/'
              'resnet18-w16_1xb128-3e-rm_fmnist-64px.py')


def tiny_config(tmp_path, data_root):
    """The RM demo with the rank-state hook, 2 epochs x 2 iterations per
    rank (64 images, 2 ranks, batch 16)."""
    path = tmp_path / 'rm_multinode.py'
    path.write_text(
        f'_base_ = {RM!r}\n'
        "custom_imports = dict(imports=['mmrm', 'rank_state_hook'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = _base_.custom_hooks + [dict(type='DumpRankState')]\n"
        f'train_dataloader = dict(batch_size=16, num_workers=0, dataset=dict('
        f'data_root={data_root!r}, indices=64))\n'
        f'val_dataloader = dict(num_workers=0, dataset=dict('
        f'data_root={data_root!r}, indices=16))\n'
        'train_cfg = dict(max_epochs=2, val_interval=100)\n'
        'param_scheduler = []\n')
    return str(path)


def env_for(tmp_path, **extra):
    return dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='1',
                PYTHON=sys.executable,
                PYTHONPATH=osp.join(ROOT, 'tests', 'scripts'),
                LOG_DIR=str(tmp_path / 'logs'), **extra)


def assert_ranks_in_sync_with_own_history(work):
    r0, r1 = (torch.load(work / f'rank{r}.pth', weights_only=True)
              for r in (0, 1))
    assert (r0['rank'], r1['rank']) == (0, 1)
    assert r0['iters'] == r1['iters'] == 4
    assert r0['params'].keys() == r1['params'].keys()
    assert any(k.startswith('head.fc_roi.') for k in r0['params'])
    for key, value in r0['params'].items():
        assert torch.equal(value, r1['params'][key]), key
    # each rank's history is its own last mixed batch: different images,
    # labels whose largest weight is that rank's own last label (the pasted
    # part weighs at most alpha = 0.5)
    assert not torch.equal(r0['history_inputs'], r1['history_inputs'])
    assert not torch.equal(r0['last_labels'], r1['last_labels'])
    for r in (r0, r1):
        assert r['history_inputs'].shape[0] == r['history_logits'].shape[0] \
            == len(r['last_labels']) == 16
        assert torch.equal(r['history_scores'].argmax(1), r['last_labels'])


def test_dist_train_as_two_nodes_on_loopback(tmp_path, fmnist_small):
    cfg = tiny_config(tmp_path, fmnist_small)
    work = tmp_path / 'work'
    env = env_for(tmp_path, NNODES='2', MASTER_ADDR='127.0.0.1',
                  PORT=str(free_port()))
    cmd = ['bash', 'tools/dist_train.sh', cfg, '1', '--work-dir', str(work)]
    results = run_launches([cmd, cmd], ROOT, [dict(env, NODE_RANK=str(rank))
                                              for rank in (0, 1)], 600)
    for rc, out in results:
        assert rc == 0, failure_excerpt(out)
    assert 'Distributed training: True' in results[0][1]
    assert_ranks_in_sync_with_own_history(work)


def test_slurm_train_as_two_nodes_with_a_stand_in_srun(tmp_path,
                                                       fmnist_small):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    write_fake_srun(bin_dir)
    work = tmp_path / 'work'
    env = env_for(tmp_path, PATH=f'{bin_dir}:{os.environ["PATH"]}', GPUS='2',
                  GPUS_PER_NODE='1', CPUS_PER_TASK='1',
                  MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()))
    proc = subprocess.run(
        ['bash', 'tools/slurm_train.sh', 'part', 'job',
         tiny_config(tmp_path, fmnist_small), str(work)], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, failure_excerpt(proc.stdout + proc.stderr)
    assert '--ntasks=2' in proc.stderr and '--ntasks-per-node=1' in \
        proc.stderr  # the srun line slurm_train.sh ran (set -x)
    assert_ranks_in_sync_with_own_history(work)
