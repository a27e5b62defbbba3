"""Running OpenMMLab configs the mmrm way: one entry point for training and
testing (:mod:`~mmrm.apis.runner`), the checks that run before the first step
(:mod:`~mmrm.apis.preflight`) and CPU-only distributed set-up
(:mod:`~mmrm.apis.distributed`)."""
from .distributed import setup_cpu_distributed
from .preflight import check_checkpoint_matches, preflight
from .runner import (build_cfg, build_runner, default_work_dir,
                     prepare_process, test, train)

__all__ = [
    'build_cfg', 'build_runner', 'default_work_dir', 'prepare_process',
    'train', 'test', 'preflight', 'check_checkpoint_matches',
    'setup_cpu_distributed'
]
