"""Running OpenMMLab configs the mmrm way: one entry point for training and
testing (:mod:`~mmrm.apis.runner`), the checks that run before the first step
(:mod:`~mmrm.apis.preflight`) and CPU-only distributed set-up
(:mod:`~mmrm.apis.distributed`)."""
from .distributed import setup_cpu_distributed
from .preflight import NothingToLoadError, check_checkpoint_matches, preflight
from .runner import (TrainingInterrupted, build_cfg, build_runner,
                     default_work_dir, prepare_process, resume_hint, test,
                     train)
from .work_dir_lock import WorkDirBusyError

__all__ = [
    'build_cfg', 'build_runner', 'default_work_dir', 'prepare_process',
    'train', 'test', 'preflight', 'check_checkpoint_matches',
    'NothingToLoadError', 'TrainingInterrupted', 'resume_hint',
    'WorkDirBusyError',
    'setup_cpu_distributed'
]
