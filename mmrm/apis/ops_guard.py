"""Stop a run before its first iteration when its model needs mmcv's
compiled ops and the installed mmcv cannot run them on the run's device.

Which configs need them: those of mmdet and mmsegmentation (``default_scope``
``'mmdet'`` / ``'mmseg'``). mmdet's detectors call mmcv's ``nms``,
``RoIAlign`` and ``sigmoid_focal_loss``; mmseg imports mmcv's ops and some of
its heads call them, which cannot be known before the model runs.
mmpretrain's configs (RM pretraining) run without them: mmpretrain 1.2.0
imports nothing from ``mmcv.ops`` and the RM head uses torchvision's
``roi_align``.

The device is the one mmengine's Runner will use: CUDA whenever torch sees
a GPU (``cuda:$LOCAL_RANK`` in a distributed launch).
"""
import os

import torch

from mmrm.utils.mmcv_ops import (REBUILD_HELP, MmcvOpsError, check_ops,
                                 missing_ops_error, ops_build)

NEEDS_COMPILED_OPS = ('mmdet', 'mmseg')


def run_device() -> torch.device:
    """The device mmengine's Runner puts the model on."""
    if torch.cuda.is_available():
        return torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
    return torch.device('cpu')


def ensure_mmcv_ops(cfg, device=None) -> None:
    """Raise :class:`~mmrm.utils.mmcv_ops.MmcvOpsError` (naming the problem
    and the command that rebuilds) when ``cfg``'s model needs mmcv's
    compiled ops and they are missing, CPU-only on a CUDA run, or lack
    kernels for this GPU."""
    scope = cfg.get('default_scope', None)
    if scope not in NEEDS_COMPILED_OPS:
        return
    build = ops_build()
    if build == 'missing':
        raise missing_ops_error(
            f'{scope} models call mmcv\'s compiled ops (nms, RoIAlign, ...)')
    device = torch.device(device) if device is not None else run_device()
    if device.type != 'cuda':
        return
    if build == 'cpu':
        raise MmcvOpsError(
            f'this {scope} run would train on {device}, but mmcv was compiled '
            'without CUDA kernels: it would crash at the first nms/RoIAlign. '
            f'{REBUILD_HELP}')
    check_ops(device)
