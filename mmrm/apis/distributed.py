"""Distributed runs on machines without CUDA (gloo), for mmengine's launchers.

mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device`` and wraps
the model in DDP with ``device_ids=[LOCAL_RANK]``, both of which fail without
CUDA. Without CUDA the process group is initialised here with the gloo
backend and the DDP wrapper gets ``device_ids=None``. On a GPU machine
nothing here runs: mmengine's own path (NCCL) is used.
"""
import os
import sys


def setup_cpu_distributed(cfg, launcher: str) -> None:
    """Prepare a distributed run on a machine without CUDA (see module doc).

    Args:
        cfg (mmengine.Config): the run's config, modified in place.
        launcher (str): 'none', 'pytorch', 'slurm' or 'mpi' (only
            'pytorch' and 'slurm' are handled here).
    """
    import torch
    import torch.distributed as dist
    if launcher not in ('pytorch', 'slurm') or torch.cuda.is_available():
        return  # single process, a GPU machine, or MPI: mmengine's own path
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = dict(env_cfg.get('dist_cfg', {}) or {})
    backend = dist_cfg.pop('backend', 'gloo')
    if backend != 'gloo':
        print(f'[tools] no CUDA: using the gloo backend instead of {backend}',
              file=sys.stderr)
    if launcher == 'slurm':
        _slurm_env()
    if not dist.is_initialized():
        kwargs = {}
        if dist_cfg.get('timeout') is not None:
            import datetime
            kwargs['timeout'] = datetime.timedelta(
                seconds=dist_cfg['timeout'])
        dist.init_process_group(backend='gloo', **kwargs)
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel', broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.setdefault('device_ids', None)
    cfg.model_wrapper_cfg = wrapper


def _slurm_env() -> None:
    """RANK/WORLD_SIZE/MASTER_* from SLURM variables (as mmengine does)."""
    import subprocess
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_PORT', '29500')
